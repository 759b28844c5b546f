-- API tokens expire (a year after creation by default) and stop working with their
-- creator's account.
alter table api_tokens add column expires_at timestamptz not null default now() + interval '365 days';

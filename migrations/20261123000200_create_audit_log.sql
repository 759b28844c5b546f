-- Every write in Keel leaves a row here. Rows are never updated or deleted.
create table audit_log (
    id bigint generated always as identity primary key,
    at timestamptz not null default now(),
    actor_id uuid constraint audit_log_actor_fk references users (id),
    -- the actor as seen at the time: an email, or 'cli' / 'system' / the address tried at login
    actor_label text not null,
    action text not null,
    target text,
    details jsonb not null default '{}'::jsonb,
    request_id text
);
create index audit_log_at_idx on audit_log (at desc, id desc);
create index audit_log_actor_idx on audit_log (actor_id, at desc);
create index audit_log_action_idx on audit_log (action, at desc);

create table login_attempts (
    id bigint generated always as identity primary key,
    at timestamptz not null default now(),
    email text not null,
    ip text,
    succeeded boolean not null
);
create index login_attempts_email_idx on login_attempts (email, at desc) where not succeeded;
create index login_attempts_ip_idx on login_attempts (ip, at desc) where not succeeded;

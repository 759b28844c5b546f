-- Emails Keel writes itself carry an HTML body beside the plain text, sent as
-- multipart/alternative. Customer emails from playbook templates stay plain text.
alter table outbox add column html text;

-- The older text columns with CHECK lists become Postgres enums, each mapped to one Rust
-- enum (tested against `enum_range` in tests/it/enums.rs), so the lists have one home per
-- side and a typo is a compile or insert error rather than a silent mismatch.
create type task_status as enum ('open', 'done', 'cancelled');
create type play_status as enum ('open', 'closed');
create type outbox_status as enum ('review', 'pending', 'sent', 'failed', 'discarded');
create type outbox_audience as enum ('internal', 'customer');
create type run_status as enum ('running', 'succeeded', 'failed');
create type batch_status as enum ('accepted', 'rejected', 'unchanged');
create type intervention_kind as enum ('call', 'email', 'meeting', 'in_app', 'qbr', 'remediation', 'other');
create type intervention_outcome as enum ('positive', 'neutral', 'negative', 'no_response');
create type feedback_verdict as enum ('agree', 'false_positive', 'missed_churn');

-- Partial indexes compare with text literals: rebuilt after the change.
drop index tasks_open_idx, tasks_due_idx, plays_one_open, outbox_due_idx,
    pipeline_runs_one_running_per_day, ingest_batches_hash_idx;

alter table tasks drop constraint tasks_status, alter column status drop default,
    alter column status type task_status using status::task_status,
    alter column status set default 'open';
alter table plays drop constraint plays_status, alter column status drop default,
    alter column status type play_status using status::play_status,
    alter column status set default 'open';
alter table outbox drop constraint outbox_status, drop constraint outbox_audience,
    alter column status drop default,
    alter column status type outbox_status using status::outbox_status,
    alter column status set default 'pending',
    alter column audience type outbox_audience using audience::outbox_audience;
alter table pipeline_runs drop constraint pipeline_runs_status,
    alter column status type run_status using status::run_status;
alter table ingest_batches drop constraint ingest_batches_status,
    alter column status type batch_status using status::batch_status;
alter table interventions drop constraint interventions_kind, drop constraint interventions_outcome,
    alter column kind type intervention_kind using kind::intervention_kind,
    alter column outcome type intervention_outcome using outcome::intervention_outcome;
alter table prediction_feedback drop constraint prediction_feedback_verdict,
    alter column verdict type feedback_verdict using verdict::feedback_verdict;

create index tasks_open_idx on tasks (assignee_id, due_at) where status = 'open';
create index tasks_due_idx on tasks (due_at) where status = 'open';
create unique index plays_one_open on plays (playbook_id, account_id) where status = 'open';
create index outbox_due_idx on outbox (next_attempt_at) where status = 'pending';
create unique index pipeline_runs_one_running_per_day on pipeline_runs (day) where status = 'running';
create index ingest_batches_hash_idx on ingest_batches (entity, content_hash) where status = 'accepted';

-- Playbooks (a trigger rule plus a sequence of tasks), the plays they open on accounts, the
-- escalations of late tasks, and the outbox every email leaves through.

create table playbooks (
    id bigint generated always as identity primary key,
    name text not null constraint playbooks_name_key unique,
    description text not null default '',
    enabled boolean not null default true,
    -- what an account's latest score must show (see playbooks::Rule)
    rule jsonb not null,
    -- the tasks a play opens: [{title, kind, owner_role, sla_hours, email?: {subject, body}}]
    steps jsonb not null,
    -- customer emails of its plays wait for the CSM's approval (true) or go straight out
    review_emails boolean not null default true,
    created_by text not null,
    updated_at timestamptz not null default now()
);

create table plays (
    id bigint generated always as identity primary key,
    playbook_id bigint not null constraint plays_playbook_fk references playbooks (id),
    account_id uuid not null constraint plays_account_fk references accounts (id),
    -- why it opened, in words
    reason text not null,
    status text not null default 'open' constraint plays_status check (status in ('open', 'closed')),
    opened_at timestamptz not null default now(),
    closed_at timestamptz
);
-- Never a second open play of the same playbook on the same account.
create unique index plays_one_open on plays (playbook_id, account_id) where status = 'open';
create index plays_account_idx on plays (account_id, opened_at desc);

alter table tasks add column play_id bigint constraint tasks_play_fk references plays (id);
create index tasks_play_idx on tasks (play_id);
create index tasks_due_idx on tasks (due_at) where status = 'open';

create table outbox (
    id bigint generated always as identity primary key,
    -- internal (escalations, alerts) or customer
    audience text not null constraint outbox_audience check (audience in ('internal', 'customer')),
    recipient text not null,
    subject text not null,
    body text not null,
    -- review (a CSM approves first), pending, sent, discarded
    status text not null default 'pending' constraint outbox_status check (status in ('review', 'pending', 'sent', 'discarded')),
    attempts integer not null default 0,
    next_attempt_at timestamptz not null default now(),
    last_error text,
    account_id uuid constraint outbox_account_fk references accounts (id),
    task_id bigint constraint outbox_task_fk references tasks (id),
    created_at timestamptz not null default now(),
    sent_at timestamptz
);
create index outbox_due_idx on outbox (next_attempt_at) where status = 'pending';

create table escalations (
    id bigint generated always as identity primary key,
    task_id bigint not null constraint escalations_task_fk references tasks (id),
    -- breach (past due: the CSM's manager), unresolved (open 3 days: the manager)
    kind text not null,
    notified text not null,
    created_at timestamptz not null default now(),
    -- every escalation happens once
    constraint escalations_once unique (task_id, kind)
);

-- The defaults from the sources, enabled.
insert into playbooks (name, description, rule, steps, created_by) values
 ('Small decrement', 'Health fell 1–10 points: an automated in-app nudge, now.',
  '{"min_decrement": 1, "max_decrement": 10}',
  '[{"title": "Send an in-app nudge", "kind": "in_app", "owner_role": "csm", "sla_hours": 1}]', 'default'),
 ('Medium decrement', 'Health fell 11–20 points: CSM outreach within 24 hours.',
  '{"min_decrement": 11, "max_decrement": 20}',
  '[{"title": "Reach out to the account", "kind": "call", "owner_role": "csm", "sla_hours": 24}]', 'default'),
 ('Large decrement', 'Health fell 21 points or more: technical remediation and renewal prioritisation within 48 hours.',
  '{"min_decrement": 21}',
  '[{"title": "Technical remediation", "kind": "remediation", "owner_role": "csm", "sla_hours": 48},
    {"title": "Prioritise the renewal", "kind": "meeting", "owner_role": "csm", "sla_hours": 48}]', 'default'),
 ('At-risk high-ARR', 'At-risk accounts with $50k+ ARR: contact within 24 hours, remediation within 7 days.',
  '{"at_risk": true, "min_arr": 50000}',
  '[{"title": "Contact the account", "kind": "call", "owner_role": "csm", "sla_hours": 24},
    {"title": "Remediation plan", "kind": "remediation", "owner_role": "csm", "sla_hours": 168}]', 'default'),
 ('At-risk SMB', 'At-risk SMB accounts: nudge now, outreach within 48 hours.',
  '{"at_risk": true, "segments": ["smb", "self_serve"]}',
  '[{"title": "Send an in-app nudge", "kind": "in_app", "owner_role": "csm", "sla_hours": 1},
    {"title": "Outreach", "kind": "email", "owner_role": "csm", "sla_hours": 48,
     "email": {"subject": "How is {{account}} getting on?",
               "body": "Hi {{contact}},\n\nI look after {{account}} at our end and noticed {{driver}}. Could we find 20 minutes this week to make sure you get what you need?\n\n{{csm}}"}}]', 'default'),
 ('At-risk trial', 'At-risk trials: nudge within 4 hours, outreach within 24 hours.',
  '{"at_risk": true, "status": "trial"}',
  '[{"title": "Send an in-app nudge", "kind": "in_app", "owner_role": "csm", "sla_hours": 4},
    {"title": "Outreach", "kind": "email", "owner_role": "csm", "sla_hours": 24}]', 'default');

-- The CSM's working records: tasks (opened by playbooks or as follow-ups), interventions,
-- snoozes, prediction feedback, and the reason codes admins keep for feedback and snoozes.

create table reason_codes (
    code text primary key,
    -- feedback or snooze
    kind text not null constraint reason_codes_kind check (kind in ('feedback', 'snooze')),
    label text not null,
    active boolean not null default true,
    created_at timestamptz not null default now()
);
insert into reason_codes (code, kind, label) values
    ('usage_seasonal', 'feedback', 'Usage dip is seasonal or planned'),
    ('contract_locked', 'feedback', 'Multi-year contract, cannot churn soon'),
    ('relationship_strong', 'feedback', 'Strong relationship the data does not show'),
    ('data_wrong', 'feedback', 'The data behind the score is wrong'),
    ('budget_cut', 'feedback', 'Churned on budget, not product'),
    ('acquired', 'feedback', 'Customer was acquired or merged'),
    ('champion_left', 'feedback', 'Our champion left the customer'),
    ('already_handled', 'snooze', 'Already being handled'),
    ('waiting_customer', 'snooze', 'Waiting on the customer'),
    ('not_actionable', 'snooze', 'Nothing to do until renewal'),
    ('false_alarm', 'snooze', 'False alarm');

create table tasks (
    id bigint generated always as identity primary key,
    account_id uuid not null constraint tasks_account_fk references accounts (id),
    assignee_id uuid not null constraint tasks_assignee_fk references users (id),
    title text not null,
    -- email, call, meeting, in_app, remediation, follow_up
    kind text not null,
    due_at timestamptz not null,
    status text not null default 'open' constraint tasks_status check (status in ('open', 'done', 'cancelled')),
    completed_at timestamptz,
    completed_by uuid constraint tasks_completed_by_fk references users (id),
    -- why it exists, in words (a playbook's trigger, or the intervention it follows up)
    reason text not null default '',
    created_at timestamptz not null default now()
);
create index tasks_open_idx on tasks (assignee_id, due_at) where status = 'open';
create index tasks_account_idx on tasks (account_id, created_at desc);

create table interventions (
    id bigint generated always as identity primary key,
    account_id uuid not null constraint interventions_account_fk references accounts (id),
    user_id uuid not null constraint interventions_user_fk references users (id),
    task_id bigint constraint interventions_task_fk references tasks (id),
    kind text not null constraint interventions_kind check (kind in ('call', 'email', 'meeting', 'in_app', 'qbr', 'remediation', 'other')),
    happened_on date not null,
    outcome text not null constraint interventions_outcome check (outcome in ('positive', 'neutral', 'negative', 'no_response')),
    notes text not null default '',
    created_at timestamptz not null default now()
);
create index interventions_account_idx on interventions (account_id, happened_on desc);

create table snoozes (
    id bigint generated always as identity primary key,
    account_id uuid not null constraint snoozes_account_fk references accounts (id),
    user_id uuid not null constraint snoozes_user_fk references users (id),
    until date not null,
    reason_code text not null constraint snoozes_reason_fk references reason_codes (code),
    note text not null default '',
    created_at timestamptz not null default now()
);
create index snoozes_account_idx on snoozes (account_id, until desc);

create table prediction_feedback (
    id bigint generated always as identity primary key,
    account_id uuid not null constraint prediction_feedback_account_fk references accounts (id),
    user_id uuid not null constraint prediction_feedback_user_fk references users (id),
    -- the score the feedback is about
    score_day date not null,
    churn_probability real,
    model_id uuid constraint prediction_feedback_model_fk references models (id),
    verdict text not null constraint prediction_feedback_verdict check (verdict in ('agree', 'false_positive', 'missed_churn')),
    reason_code text not null constraint prediction_feedback_reason_fk references reason_codes (code),
    note text not null default '',
    created_at timestamptz not null default now()
);
create index prediction_feedback_account_idx on prediction_feedback (account_id, created_at desc);
create index prediction_feedback_created_idx on prediction_feedback (created_at desc);

-- Scoring: models in a registry, versioned health-score configurations, daily scores, and
-- the log of each pipeline run.

create table models (
    id uuid primary key,
    version bigint generated always as identity,
    algorithm text not null,
    trained_at timestamptz not null default now(),
    train_from date not null,
    train_to date not null,
    rows integer not null,
    metrics jsonb not null,
    importance jsonb not null,
    artefact jsonb not null,
    in_production boolean not null default false,
    created_by text not null
);
create unique index models_one_in_production on models ((true)) where in_production;

create table health_configs (
    id bigint generated always as identity primary key,
    signals jsonb not null,
    red_max real not null,
    yellow_max real not null,
    created_by text not null,
    created_at timestamptz not null default now()
);

create table pipeline_runs (
    id bigint generated always as identity primary key,
    day date not null,
    trigger text not null,
    status text not null constraint pipeline_runs_status check (status in ('running', 'succeeded', 'failed')),
    stages jsonb not null default '[]'::jsonb,
    error text,
    started_at timestamptz not null default now(),
    finished_at timestamptz
);
-- Two workers never run the same day's pipeline at once.
create unique index pipeline_runs_one_running_per_day on pipeline_runs (day) where status = 'running';
create index pipeline_runs_started_idx on pipeline_runs (started_at desc);

-- One score per account and day; re-running a day replaces its scores.
create table scores (
    account_id uuid not null constraint scores_account_fk references accounts (id),
    day date not null,
    health_score real not null,
    band text not null,
    signals jsonb not null,
    churn_probability real,
    risk_tier text,
    at_risk boolean not null default false,
    drivers jsonb not null default '[]'::jsonb,
    model_id uuid constraint scores_model_fk references models (id),
    health_config_id bigint constraint scores_health_config_fk references health_configs (id),
    run_id bigint not null constraint scores_run_fk references pipeline_runs (id),
    constraint scores_pkey primary key (account_id, day)
);
create index scores_day_idx on scores (day, churn_probability desc);

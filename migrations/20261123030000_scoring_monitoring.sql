-- Editable risk thresholds beside the health weights (one versioned scoring configuration),
-- what each score adds to the day (segment, trajectory, decrement, anomaly, champion watch),
-- model-health alerts, and the queue of accounts to re-score after an ingestion batch.

alter table health_configs
    add column high_risk real not null default 0.80,
    add column medium_risk real not null default 0.50,
    add column at_risk real not null default 0.65,
    add column note text not null default '';

alter table scores
    add column segment text,
    -- improving, stable or declining over the last four weeks of scores
    add column trajectory text,
    -- health points lost since the account's previous score (null when it did not drop)
    add column decrement real,
    -- this week's usage against the account's own trailing baseline: 'drop' or 'spike'
    add column anomaly text,
    -- a champion or power user disengaging, in words; null when none
    add column champion_loss text,
    -- set when an ingestion batch re-scored the account after the day's run
    add column rescored_at timestamptz;

-- The training distribution of each feature (decile bins), for drift (PSI) checks.
alter table models add column reference jsonb;
-- What the run's monitoring measured: drift per feature, weekly AUC on matured labels, the
-- distribution of predictions.
alter table pipeline_runs add column monitoring jsonb;

create table model_alerts (
    id bigint generated always as identity primary key,
    -- drift, auc, volume, freshness
    kind text not null,
    subject text not null,
    message text not null,
    value real,
    threshold real,
    day date not null,
    created_at timestamptz not null default now(),
    constraint model_alerts_once unique (kind, subject, day)
);
create index model_alerts_created_idx on model_alerts (created_at desc);

-- Accounts touched by an accepted ingestion batch, waiting to be re-scored.
create table rescore_queue (
    account_id uuid primary key constraint rescore_queue_account_fk references accounts (id),
    queued_at timestamptz not null default now()
);

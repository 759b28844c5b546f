-- What each run's monitoring measured now lives with the model domain that reads it, beside
-- its alerts, rather than on the pipeline's run rows.
create table model_monitoring (
    run_id bigint primary key,
    day date not null,
    monitoring jsonb not null,
    created_at timestamptz not null default now()
);

insert into model_monitoring (run_id, day, monitoring)
select id, day, monitoring from pipeline_runs where monitoring is not null;

alter table pipeline_runs drop column monitoring;

-- Per filter (segment, team, both or neither): the survival curves by health band with
-- their log-rank test, and the model's ARR at risk, so the dashboard reads one row.
create table revenue_views (
    segment text,
    manager_id uuid,
    score_day date,
    horizon_days integer,
    curves jsonb not null default '[]'::jsonb,
    log_rank jsonb,
    arr_at_risk_cents bigint not null default 0,
    -- Accounts flagged at risk 60 to 240 days before, contacted within 14 days, and still
    -- customers 60 days after their flag (the save rate; per team).
    saves_flagged bigint not null default 0,
    saves_contacted bigint not null default 0,
    saves_retained bigint not null default 0
);
create unique index revenue_views_key on revenue_views (coalesce(segment, ''), coalesce(manager_id, '00000000-0000-0000-0000-000000000000'::uuid));

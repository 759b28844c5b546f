-- Revenue facts, prepared when billing data changes (in the daily run) so the executive's
-- dashboard never scans subscription history per request.

-- Each account's MRR movements per month, in cents (revenue::movements).
create table revenue_months (
    account_id uuid not null constraint revenue_months_account_fk references accounts (id),
    month date not null,
    start_cents bigint not null,
    new_cents bigint not null,
    expansion_cents bigint not null,
    contraction_cents bigint not null,
    churn_cents bigint not null,
    reactivation_cents bigint not null,
    end_cents bigint not null,
    constraint revenue_months_pkey primary key (account_id, month),
    constraint revenue_months_reconcile check (
        start_cents + new_cents + expansion_cents + reactivation_cents - contraction_cents - churn_cents = end_cents)
);
create index revenue_months_month_idx on revenue_months (month);

-- The book's MRR movements per month, by segment (at the month's start, else its end) and team.
create table revenue_monthly (
    month date not null,
    segment text not null,
    manager_id uuid,
    accounts_start bigint not null,
    accounts_end bigint not null,
    start_cents bigint not null,
    new_cents bigint not null,
    expansion_cents bigint not null,
    contraction_cents bigint not null,
    churn_cents bigint not null,
    reactivation_cents bigint not null,
    end_cents bigint not null
);
create index revenue_monthly_month_idx on revenue_monthly (month);

-- What became of the accounts scored `horizon_days` before the refresh, by the band and
-- risk tier they were given: accounts, and how many churned since.
create table revenue_band_outcomes (
    horizon_days integer not null,
    score_day date not null,
    grouping text not null constraint revenue_band_outcomes_grouping check (grouping in ('band', 'tier')),
    value text not null,
    segment text not null,
    manager_id uuid,
    accounts bigint not null,
    churned bigint not null
);

-- Retention over windows of 1, 3 and 12 months, by segment at the window's start and team.
create table revenue_windows (
    months integer not null,
    end_month date not null,
    segment text not null,
    manager_id uuid,
    accounts bigint not null,
    churned_accounts bigint not null,
    starting_cents bigint not null,
    expansion_cents bigint not null,
    contraction_cents bigint not null,
    churn_cents bigint not null
);
create index revenue_windows_idx on revenue_windows (months, end_month);

-- Cohorts by first paid month: accounts and MRR still paying `age` months on.
create table revenue_cohorts (
    cohort date not null,
    age integer not null,
    segment text not null,
    manager_id uuid,
    accounts bigint not null,
    retained bigint not null,
    base_cents bigint not null,
    mrr_cents bigint not null
);
create index revenue_cohorts_idx on revenue_cohorts (cohort, age);

-- When the facts were last prepared, and as of which day.
create table revenue_refreshes (
    id bigint generated always as identity primary key,
    as_of date not null,
    accounts bigint not null,
    refreshed_at timestamptz not null default now()
);

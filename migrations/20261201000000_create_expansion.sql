-- Expansion: each scored account's propensity to buy more (daily, like the churn scores),
-- the versioned signal weights behind it, and the opportunities CS hands to sales with every
-- step they take. Owned by src/expansion (propensity) and src/opportunities (the hand-off).

create type expansion_tier as enum ('low', 'medium', 'high');
create type opportunity_kind as enum ('seats', 'tier_upgrade', 'cross_sell');
create type opportunity_status as enum ('handed', 'accepted', 'rejected', 'contacted', 'won', 'lost');
create type opportunity_step as enum ('handed', 'accepted', 'rejected', 'contacted', 'won', 'lost', 'escalated');

-- The signal weights, versioned: the newest row is in force.
create table expansion_configs (
    id bigint generated always as identity primary key,
    -- {"depth": 0.4, "co_usage": 0.3, "seat_growth": 0.15, "nps_trend": 0.1, "feature_requests": 0.05}
    weights jsonb not null,
    -- rubric (the sources' 40/30/15/10/5) or learned (from past expansions)
    source text not null constraint expansion_configs_source check (source in ('rubric', 'learned')),
    created_by uuid constraint expansion_configs_created_by_fk references users (id),
    created_at timestamptz not null default now()
);
insert into expansion_configs (weights, source) values
    ('{"depth": 0.4, "co_usage": 0.3, "seat_growth": 0.15, "nps_trend": 0.1, "feature_requests": 0.05}', 'rubric');

create table expansion_scores (
    account_id uuid not null constraint expansion_scores_account_fk references accounts (id),
    day date not null,
    propensity real not null constraint expansion_scores_range check (propensity between 0 and 100),
    tier expansion_tier not null,
    -- per signal: the raw value and its normalised (within-segment percentile) value
    signals jsonb not null,
    poc real not null,
    projected_arr_cents bigint not null,
    config_id bigint not null constraint expansion_scores_config_fk references expansion_configs (id),
    constraint expansion_scores_pkey primary key (account_id, day)
);
create index expansion_scores_day_idx on expansion_scores (day, propensity desc);

-- Sales' reasons for rejecting a hand-off and for losing a deal join the admin-kept list.
alter table reason_codes drop constraint reason_codes_kind;
alter table reason_codes add constraint reason_codes_kind
    check (kind in ('feedback', 'snooze', 'rejection', 'loss'));
insert into reason_codes (code, kind, label) values
    ('not_ready', 'rejection', 'Customer not ready to buy yet'),
    ('no_budget', 'rejection', 'No budget this cycle'),
    ('in_sales_cycle', 'rejection', 'Already in a sales cycle'),
    ('resolve_risk_first', 'rejection', 'Churn risk must be resolved first'),
    ('lost_competitor', 'loss', 'Chose a competitor'),
    ('lost_budget', 'loss', 'Budget cut'),
    ('lost_timing', 'loss', 'Timing: revisit next quarter'),
    ('lost_no_need', 'loss', 'No need after discovery');

create table opportunities (
    id bigint generated always as identity primary key,
    account_id uuid not null constraint opportunities_account_fk references accounts (id),
    kind opportunity_kind not null,
    status opportunity_status not null default 'handed',
    estimated_arr_cents bigint not null constraint opportunities_estimate_nonnegative check (estimated_arr_cents >= 0),
    propensity real not null,
    tier expansion_tier not null,
    -- the propensity's top signals, in words, as the CSM saw them
    reasons jsonb not null default '[]'::jsonb,
    note text not null,
    -- required when the account was at churn risk: "expansion readiness after resolution"
    context_note text,
    at_risk boolean not null,
    csm_id uuid not null constraint opportunities_csm_fk references users (id),
    sales_owner_id uuid not null constraint opportunities_sales_owner_fk references users (id),
    created_at timestamptz not null,
    sla_due_at timestamptz not null,
    accepted_at timestamptz,
    contacted_at timestamptz,
    closed_at timestamptz,
    reason_code text constraint opportunities_reason_fk references reason_codes (code),
    outcome_note text,
    closed_arr_cents bigint constraint opportunities_closed_nonnegative check (closed_arr_cents >= 0),
    escalated_at timestamptz,
    constraint opportunities_risk_context check (not at_risk or coalesce(context_note, '') <> ''),
    constraint opportunities_won_arr check (status <> 'won' or closed_arr_cents is not null),
    constraint opportunities_reasoned check (status not in ('rejected', 'lost') or reason_code is not null)
);
create index opportunities_owner_idx on opportunities (sales_owner_id, status, sla_due_at);
create index opportunities_account_idx on opportunities (account_id);
create index opportunities_created_idx on opportunities (created_at);
-- one open opportunity per account
create unique index opportunities_one_open on opportunities (account_id)
    where status in ('handed', 'accepted', 'contacted');

create table opportunity_events (
    id bigint generated always as identity primary key,
    opportunity_id bigint not null constraint opportunity_events_opportunity_fk references opportunities (id),
    at timestamptz not null,
    step opportunity_step not null,
    actor text not null,
    note text not null default ''
);
create index opportunity_events_opportunity_idx on opportunity_events (opportunity_id, at);

-- Experiments: randomised tests of CS strategies, and every playbook's standing holdout.
-- An account is assigned once per experiment, with its stratum and slot, and never moved.

create type experiment_status as enum ('draft', 'running', 'concluded');

create table experiments (
    id bigint generated always as identity primary key,
    name text not null constraint experiments_name_key unique,
    hypothesis text not null default '',
    -- eligibility, in the playbook rule language
    rule jsonb not null default '{}',
    seed bigint not null,
    -- assignment runs for this many days from the start
    duration_days integer not null default 60 constraint experiments_duration check (duration_days between 7 and 730),
    start_date date,
    end_date date,
    min_per_variant integer not null default 100 constraint experiments_min check (min_per_variant > 0),
    -- the primary metric: retained this many days after assignment
    horizon_days integer not null default 90 constraint experiments_horizon check (horizon_days between 7 and 365),
    status experiment_status not null default 'draft',
    -- a playbook's standing holdout: runs while the playbook holds accounts out, no end date
    holdout_of bigint constraint experiments_holdout_fk references playbooks (id),
    decision text,
    winner_variant_id bigint,
    concluded_at timestamptz,
    concluded_by text,
    created_by text not null,
    created_at timestamptz not null default now(),
    constraint experiments_holdout_once unique (holdout_of),
    constraint experiments_decided check ((status = 'concluded') = (decision is not null)),
    constraint experiments_dates check (
        status = 'draft' or holdout_of is not null
        or (start_date is not null and end_date is not null and end_date > start_date))
);

create table experiment_variants (
    id bigint generated always as identity primary key,
    experiment_id bigint not null constraint experiment_variants_experiment_fk references experiments (id) on delete cascade,
    -- 0 is the control
    position smallint not null,
    name text not null,
    description text not null default '',
    allocation integer not null constraint experiment_variants_allocation check (allocation > 0),
    -- the play this variant runs; none for a "no play" control
    playbook_id bigint constraint experiment_variants_playbook_fk references playbooks (id),
    constraint experiment_variants_position unique (experiment_id, position),
    constraint experiment_variants_name unique (experiment_id, name)
);

alter table experiments add constraint experiments_winner_fk
    foreign key (winner_variant_id) references experiment_variants (id);

create table experiment_assignments (
    experiment_id bigint not null constraint experiment_assignments_experiment_fk references experiments (id) on delete cascade,
    account_id uuid not null constraint experiment_assignments_account_fk references accounts (id),
    variant_id bigint not null constraint experiment_assignments_variant_fk references experiment_variants (id),
    -- segment/risk tier when assigned
    stratum text not null,
    -- its place in the stratum's sequence of permuted blocks
    slot integer not null,
    assigned_on date not null,
    constraint experiment_assignments_pkey primary key (experiment_id, account_id),
    constraint experiment_assignments_slot unique (experiment_id, stratum, slot)
);
create index experiment_assignments_account_idx on experiment_assignments (account_id, assigned_on);

-- CSM time per account, a secondary metric.
alter table interventions add column minutes_spent integer
    constraint interventions_minutes check (minutes_spent between 0 and 1440);

-- The share of a playbook's matching accounts held out at random to measure its uplift.
alter table playbooks add column holdout_pct smallint not null default 0
    constraint playbooks_holdout check (holdout_pct between 0 and 50);

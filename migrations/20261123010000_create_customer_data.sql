-- The customer data Keel scores: accounts and what happens in them. Every row carries its
-- account id (the future sharding key); money is integer cents; times are UTC.

create type account_status as enum ('trial', 'active', 'churned');

create table accounts (
    id uuid primary key,
    external_id text not null,
    name text not null,
    plan text not null,
    seats integer not null constraint accounts_seats_nonnegative check (seats >= 0),
    mrr_cents bigint not null constraint accounts_mrr_nonnegative check (mrr_cents >= 0),
    segment text not null generated always as (
        case
            when mrr_cents >= 500000 then 'enterprise'
            when mrr_cents >= 100000 then 'mid_market'
            when mrr_cents >= 20000 then 'smb'
            else 'self_serve'
        end
    ) stored,
    owner_id uuid constraint accounts_owner_fk references users (id),
    customer_since date not null,
    renewal_date date,
    status account_status not null default 'active',
    churned_on date,
    executive_sponsor text,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint accounts_external_id_key unique (external_id),
    constraint accounts_churn_date check ((status = 'churned') = (churned_on is not null))
);
create index accounts_owner_idx on accounts (owner_id);
create index accounts_segment_idx on accounts (segment);
select manage_updated_at('accounts');

create table contacts (
    account_id uuid not null constraint contacts_account_fk references accounts (id),
    external_id text not null,
    name text,
    -- personal data: erased on request, aggregates stay
    email text,
    title text,
    is_champion boolean not null default false,
    -- the pseudonymous id product events carry for this person
    user_ref text,
    erased_at timestamptz,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint contacts_pkey primary key (account_id, external_id)
);
create index contacts_user_ref_idx on contacts (account_id, user_ref);
select manage_updated_at('contacts');

create table subscription_periods (
    account_id uuid not null constraint subscription_periods_account_fk references accounts (id),
    period_start date not null,
    period_end date not null,
    plan text not null,
    seats integer not null,
    mrr_cents bigint not null,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint subscription_periods_pkey primary key (account_id, period_start),
    constraint subscription_periods_order check (period_end > period_start)
);
select manage_updated_at('subscription_periods');

create type ticket_priority as enum ('low', 'normal', 'high', 'urgent');

create table tickets (
    account_id uuid not null constraint tickets_account_fk references accounts (id),
    external_id text not null,
    priority ticket_priority not null,
    subject text not null,
    opened_at timestamptz not null,
    resolved_at timestamptz,
    csat smallint constraint tickets_csat_range check (csat between 1 and 5),
    feature_request boolean not null default false,
    created_at timestamptz not null default now(),
    updated_at timestamptz not null default now(),
    constraint tickets_pkey primary key (account_id, external_id)
);
create index tickets_opened_idx on tickets (account_id, opened_at);
select manage_updated_at('tickets');

create table nps_responses (
    account_id uuid not null constraint nps_account_fk references accounts (id),
    external_id text not null,
    user_ref text,
    responded_at timestamptz not null,
    score smallint not null constraint nps_score_range check (score between 0 and 10),
    comment text,
    created_at timestamptz not null default now(),
    constraint nps_responses_pkey primary key (account_id, external_id)
);
create index nps_responded_idx on nps_responses (account_id, responded_at);

create table crm_notes (
    account_id uuid not null constraint crm_notes_account_fk references accounts (id),
    external_id text not null,
    author text not null,
    noted_at timestamptz not null,
    body text not null,
    created_at timestamptz not null default now(),
    constraint crm_notes_pkey primary key (account_id, external_id)
);
create index crm_notes_noted_idx on crm_notes (account_id, noted_at);

-- Product usage per account, user and day; `categories` is a bitmask of the feature
-- categories the user touched that day (bit order: usage::CATEGORIES).
-- The usage tables carry no foreign key: only ingestion writes them, with account ids it
-- has just resolved in the same transaction, and accounts are never deleted. A per-row
-- key check would cost more than the rest of event ingestion together. user_ref uses
-- the "C" collation: it is an opaque id, and byte order keeps the index cheap.
create table usage_user_daily (
    account_id uuid not null,
    day date not null,
    user_ref text collate "C" not null,
    events integer not null,
    core_actions integer not null,
    comments integer not null,
    invites integer not null,
    categories integer not null,
    constraint usage_user_daily_pkey primary key (account_id, day, user_ref)
);

-- Product usage per account and day, recomputed from usage_user_daily for the days a
-- batch touches. feature_users[i] = active users who touched category i that day.
create table usage_daily (
    account_id uuid not null,
    day date not null,
    active_users integer not null,
    events integer not null,
    core_actions integer not null,
    comments integer not null,
    invites integer not null,
    feature_users integer[] not null,
    constraint usage_daily_pkey primary key (account_id, day)
);

-- Every batch offered, accepted or not, with why.
create table ingest_batches (
    id bigint generated always as identity primary key,
    entity text not null,
    source text not null,
    status text not null constraint ingest_batches_status check (status in ('accepted', 'rejected', 'unchanged')),
    rows integer not null,
    errors jsonb not null default '[]'::jsonb,
    content_hash text not null,
    newest_record_at timestamptz,
    actor_label text not null,
    created_at timestamptz not null default now()
);
create index ingest_batches_entity_idx on ingest_batches (entity, created_at desc);
create index ingest_batches_hash_idx on ingest_batches (entity, content_hash) where status = 'accepted';

create table api_tokens (
    id uuid primary key,
    name text not null,
    -- sha-256 of the secret, hex; the secret itself is shown once and never stored
    token_hash text not null constraint api_tokens_hash_key unique,
    scopes text[] not null,
    created_by uuid not null constraint api_tokens_creator_fk references users (id),
    created_at timestamptz not null default now(),
    last_used_at timestamptz,
    revoked_at timestamptz
);

-- A CSV uploaded in the browser, kept between its preview and its confirmation.
create table ingest_uploads (
    id uuid primary key,
    entity text not null,
    filename text not null,
    content bytea not null,
    uploaded_by uuid not null constraint ingest_uploads_user_fk references users (id),
    created_at timestamptz not null default now()
);

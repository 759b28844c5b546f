-- The event catalogue's figures (events, accounts, people per type over 7/30/90 days up to
-- the newest day of data), computed by the daily run or on request: counting distinct
-- people per type is too slow for a page view.
create table event_type_profiles (
    type_id smallint primary key constraint event_type_profiles_type_fk references event_types (id),
    as_of date not null,
    events_7d bigint not null,
    events_30d bigint not null,
    events_90d bigint not null,
    accounts_7d bigint not null,
    accounts_30d bigint not null,
    accounts_90d bigint not null,
    users_7d bigint not null,
    users_30d bigint not null,
    users_90d bigint not null,
    computed_at timestamptz not null default now()
);

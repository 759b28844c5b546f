-- The product's event taxonomy as configuration: every event type seen, the versioned
-- mapping of types to the parts they play in the features, and per account-day and
-- user-day the events of each type, so a new mapping recomputes all history without the
-- raw events. The mapped columns (events, core_actions, comments, invites, categories)
-- hold the figures under the newest mapping.

create table event_types (
    id smallint generated always as identity primary key,
    name text not null constraint event_types_name_key unique,
    first_seen date,
    last_seen date
);

create table event_mappings (
    id bigint generated always as identity primary key,
    -- [{"pattern": "board_*", "parts": [{"module": "kanban_boards"}]}, ...]
    rules jsonb not null,
    note text not null default '',
    created_by text not null,
    created_at timestamptz not null default now()
);

-- Parallel arrays, sorted by type id: the types touched and how many events of each.
-- `events` becomes the events counted under the mapping (ignored types left out).
alter table usage_user_daily
    add column event_types smallint[] not null default '{}',
    add column type_events integer[] not null default '{}';

alter table usage_daily
    add column event_types smallint[] not null default '{}',
    add column type_events integer[] not null default '{}',
    -- bitmask of the feature areas touched that day (bit i = the mapping's module i)
    add column categories integer not null default 0;

update usage_daily set categories = (
    select coalesce(sum(1 << (i - 1)), 0)::int from generate_subscripts(feature_users, 1) i
    where feature_users[i] > 0);

alter table usage_daily drop column feature_users;

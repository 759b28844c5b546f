-- What the event catalogue counts, brought up to date by each refresh from the days
-- ingestion touched since the last one, so the daily run reads a day of roll-ups and these
-- small tables instead of unnesting 90 days of user-days (54.6 s of the daily run at 50,000
-- accounts): each type's events per day, and per account and per person the last day they
-- used each type (parallel arrays sorted by type id). Usage only grows within a day, so a
-- last day only moves forward and counting a day twice changes nothing; retention and
-- erasure, which take user-days away, mend the people table themselves.

-- The days with usage written since the catalogue last counted (ingestion adds them in
-- each batch's transaction; a refresh takes them).
create table usage_days_touched (
    day date not null constraint usage_days_touched_pkey primary key
);

create table event_type_days (
    type_id smallint not null,
    day date not null,
    events bigint not null,
    constraint event_type_days_pkey primary key (type_id, day)
);

create table event_type_accounts (
    account_id uuid not null constraint event_type_accounts_pkey primary key,
    types smallint[] not null,
    last_days date[] not null
);

create table event_type_people (
    account_id uuid not null,
    user_ref text collate "C" not null,
    types smallint[] not null,
    last_days date[] not null,
    constraint event_type_people_pkey primary key (account_id, user_ref)
);

-- Two (types, last days) pairs as one: each type once, with the later of its days. Declared
-- as a table (of one row) so the planner inlines it into the upsert: called as a function
-- returning a record it cost a third more per row.
create function last_days_merged(a_types smallint[], a_days date[], b_types smallint[], b_days date[])
returns table (types smallint[], last_days date[]) language sql immutable parallel safe as $$
    select array_agg(t order by t), array_agg(d order by t)
    from (select t, max(d) as d from unnest(a_types || b_types, a_days || b_days) x(t, d) group by t) y
$$;

-- Every day so far: the first refresh counts all history.
insert into usage_days_touched (day)
select day from usage_daily union select day from usage_user_daily;

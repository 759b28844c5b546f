-- Per person and calendar month, the days they were active (with counted events) and the
-- days they commented, as bitmasks (bit d - 1 for day d of the month): what champion watch,
-- the per-user features and expansion ask of a window of weeks, one row per person-month
-- instead of one per person-day (read from usage_user_daily, champion watch's 44 days cost
-- about 5 s of the daily run at 50,000 accounts). features::months keeps it: ingestion notes
-- the days it wrote (usage_months_touched, in each batch's transaction), and the first read
-- after ORs those days in. Usage only grows within a day, so a bit once set stays set, and
-- ORing a day twice changes nothing; a new event mapping, retention and erasure, which take
-- usage away, rewrite the months themselves.
-- Keyed month first, and written in key order: a window of weeks reads two or three months'
-- rows, together on disk, not a few rows of every person's year.
create table usage_user_months (
    month date not null,
    account_id uuid not null,
    user_ref text collate "C" not null,
    active integer not null,
    commented integer not null,
    constraint usage_user_months_pkey primary key (month, account_id, user_ref)
);

-- One row per day a batch wrote, unkeyed: each batch adds rows of its own rather than finding
-- another's, so a catch-up can only take a day once the batch that wrote it has committed
-- (and the batch never waits on a catch-up).
create table usage_months_touched (day date not null);
insert into usage_months_touched select day from usage_days;

-- The bits of the days from lo to hi (inclusive) that fall in the month starting on month_start.
create function month_day_bits(month_start date, lo date, hi date) returns integer
language sql immutable parallel safe
return case
    when hi < month_start or lo >= (month_start + interval '1 month')::date then 0
    else ((1::int8 << (least(hi, (month_start + interval '1 month')::date - 1) - month_start + 1))
          - (1::int8 << (greatest(lo, month_start) - month_start)))::integer
end;

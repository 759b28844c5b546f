-- Each running worker says it is alive once a minute, and whether it can send email, so the
-- app can warn admins and analysts when nothing is running the schedule, the outbox or the
-- re-scores.
create table worker_heartbeats (
    worker text primary key,
    seen_at timestamptz not null,
    started_at timestamptz not null,
    mail boolean not null
);

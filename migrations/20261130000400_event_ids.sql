-- Every product event that arrived with an id, so it counts once however often it is sent
-- (events without an id count each time they arrive). Kept for the per-user retention
-- window with the roll-ups.
create table event_ids (
    account_id uuid not null constraint event_ids_account_fk references accounts (id),
    event_id text not null,
    seen_on date not null default current_date,
    constraint event_ids_pkey primary key (account_id, event_id)
);
create index event_ids_seen_on_idx on event_ids (seen_on);

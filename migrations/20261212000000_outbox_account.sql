-- The account page's timeline reads an account's emails. Without an index it scanned the
-- whole outbox: with 60 emails for each of 4,200 accounts (270,000 rows) the timeline took
-- 80-110 ms instead of about 1 ms, and it grew with every email any account was ever sent.
create index outbox_account_idx on outbox (account_id, created_at);

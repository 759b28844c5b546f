-- One account's months, for a re-score of the accounts a batch touched. Keyed month first,
-- usage_user_months would otherwise be read whole for the months to find a few accounts'
-- rows: champion watch for 10 accounts at 50,000 took 481 ms over 1.4 million person-months,
-- against 1 ms by this index (and 7 ms from the user-days before the months).
create index usage_user_months_account on usage_user_months (account_id, month);

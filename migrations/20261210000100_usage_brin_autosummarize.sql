-- The day BRIN indexes on the usage roll-ups summarise each block range as it fills (the
-- next autovacuum does it) instead of only when the table is vacuumed. Until a range is
-- summarised every day-window read takes it: after a bulk load none was, and the daily
-- run's windows over 63 and 90 days read the whole of both tables (108,000 pages of
-- usage_user_daily at 4,200 accounts for one day's rows). The daily run also summarises
-- what is left before it reads (features::db::summarize_usage_days).
alter index usage_daily_day_brin set (autosummarize = on);
alter index usage_user_daily_day_brin set (autosummarize = on);

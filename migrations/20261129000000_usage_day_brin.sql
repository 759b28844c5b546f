-- The daily run reads the last weeks of the usage roll-ups for every account (features,
-- usage anomalies, champion watch). Roll-ups arrive in day order, so a BRIN index on day
-- finds such a window for a few kilobytes of index instead of a scan of the whole history.
create index usage_daily_day_brin on usage_daily using brin (day);
create index usage_user_daily_day_brin on usage_user_daily using brin (day);

-- A user's own time zone (an IANA name such as Europe/Berlin) for the times Keel shows them;
-- null means their browser's.
alter table users add column time_zone text;

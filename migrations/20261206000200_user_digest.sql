-- The daily "what changed in your book" email: who asked for it, and the last day it was
-- queued for them (so each day's goes out once, whichever worker gets there).
alter table users add column digest boolean not null default false,
                  add column digest_queued_on date;

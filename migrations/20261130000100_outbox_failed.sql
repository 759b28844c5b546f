-- An email that can never be delivered (an invalid address, a permanent SMTP refusal) is
-- marked failed with its reason instead of being retried for ever.
alter table outbox drop constraint outbox_status;
alter table outbox add constraint outbox_status
    check (status in ('review', 'pending', 'sent', 'failed', 'discarded'));

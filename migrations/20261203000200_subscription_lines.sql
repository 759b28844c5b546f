-- Billing as it really is: several lines per account and period (a base plan and its
-- add-ons), each as billed (the term's amount, discount and months) with its MRR.
alter table subscription_periods
    add column line_id text not null default '',
    add column amount_cents bigint constraint subscription_periods_amount_nonnegative check (amount_cents >= 0),
    add column discount_cents bigint not null default 0,
    add column term_months smallint constraint subscription_periods_term check (term_months between 1 and 60);

alter table subscription_periods drop constraint subscription_periods_pkey;
alter table subscription_periods add constraint subscription_periods_pkey
    primary key (account_id, line_id, period_start);
create index subscription_periods_span_idx on subscription_periods (account_id, period_start, period_end);

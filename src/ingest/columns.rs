//! Each entity's columns: name, type, whether required, an example and its meaning.

use super::schema::{Column, Kind, PRIORITIES, STATUSES, col};

const ACCOUNT_ID: Column = col(
    "account_id",
    Kind::Text,
    true,
    "ACME-001",
    "the account's external_id",
);

pub(super) const ACCOUNTS: &[Column] = &[
    col(
        "external_id",
        Kind::Text,
        true,
        "ACME-001",
        "the account's id in your CRM or billing system",
    ),
    col("name", Kind::Text, true, "Acme Corp", "company name"),
    col("plan", Kind::Text, true, "business", "current plan"),
    col(
        "seats",
        Kind::Int(0, 1_000_000),
        false,
        "25",
        "licensed seats (empty: the seats of its subscription lines)",
    ),
    col(
        "mrr",
        Kind::Money,
        false,
        "1250.00",
        "monthly recurring revenue in dollars (segment follows from it; empty: the sum of its subscription lines)",
    ),
    col(
        "customer_since",
        Kind::Date,
        true,
        "2024-03-01",
        "first day as a customer (or trial start)",
    ),
    col(
        "renewal_date",
        Kind::Date,
        false,
        "2027-03-01",
        "next renewal",
    ),
    col(
        "status",
        Kind::Choice(STATUSES),
        false,
        "active",
        "trial, active (default) or churned",
    ),
    col(
        "churned_on",
        Kind::Date,
        false,
        "",
        "required when status is churned, empty otherwise",
    ),
    col(
        "owner_email",
        Kind::Text,
        false,
        "csm@keel.demo",
        "email of the Keel user who owns the account",
    ),
    col(
        "executive_sponsor",
        Kind::Text,
        false,
        "Jane Doe <jane@acme.example>",
        "the customer's executive sponsor",
    ),
];

pub(super) const CONTACTS: &[Column] = &[
    ACCOUNT_ID,
    col(
        "external_id",
        Kind::Text,
        true,
        "C-1001",
        "the contact's id, unique within the account",
    ),
    col("name", Kind::Text, false, "Ravi Patel", "full name"),
    col(
        "email",
        Kind::Email,
        false,
        "ravi@acme.example",
        "email (personal data, erasable)",
    ),
    col(
        "title",
        Kind::Text,
        false,
        "Head of Operations",
        "job title",
    ),
    col(
        "champion",
        Kind::Bool,
        false,
        "true",
        "whether this contact champions the product",
    ),
    col(
        "user_id",
        Kind::Text,
        false,
        "u_8f3a",
        "the pseudonymous id their product events carry",
    ),
];

pub(super) const SUBSCRIPTIONS: &[Column] = &[
    ACCOUNT_ID,
    col(
        "line_id",
        Kind::Text,
        false,
        "sso-addon",
        "the line within the account (base plan, an add-on); empty when the account has one line",
    ),
    col(
        "period_start",
        Kind::Date,
        true,
        "2026-01-01",
        "first day of the billing period",
    ),
    col(
        "period_end",
        Kind::Date,
        true,
        "2026-02-01",
        "first day after the period (a change mid-term ends the old line and starts a new one)",
    ),
    col(
        "plan",
        Kind::Text,
        true,
        "business",
        "plan or add-on in this period",
    ),
    col(
        "seats",
        Kind::Int(0, 1_000_000),
        false,
        "25",
        "seats on this line (0 or empty for an add-on without seats)",
    ),
    col(
        "mrr",
        Kind::Money,
        false,
        "1250.00",
        "monthly recurring revenue in dollars; or give amount instead",
    ),
    col(
        "amount",
        Kind::Money,
        false,
        "12000.00",
        "billed for the whole term, before discount; MRR = (amount − discount) / term months",
    ),
    col(
        "term_months",
        Kind::Int(1, 60),
        false,
        "12",
        "months the amount covers (1 monthly, 6 semi-annual, 12 annual); default: the period's length",
    ),
    col(
        "discount",
        Kind::Money,
        false,
        "1200.00",
        "taken off the term's amount",
    ),
];

pub(super) const EVENTS: &[Column] = &[
    ACCOUNT_ID,
    col(
        "user_id",
        Kind::Text,
        true,
        "u_8f3a",
        "pseudonymous user id",
    ),
    col(
        "event_type",
        Kind::Text,
        true,
        "task_created",
        "what happened (page_viewed, board_created, …)",
    ),
    col(
        "timestamp",
        Kind::Timestamp,
        true,
        "2026-11-20T14:03:00Z",
        "when, in UTC",
    ),
    col(
        "count",
        Kind::Int(1, 1_000_000),
        false,
        "1",
        "how many such events (default 1; for pre-aggregated feeds)",
    ),
    col(
        "event_id",
        Kind::Text,
        false,
        "evt_01H…",
        "your id for the event; must be unique within the batch",
    ),
];

pub(super) const TICKETS: &[Column] = &[
    ACCOUNT_ID,
    col(
        "external_id",
        Kind::Text,
        true,
        "T-5521",
        "ticket id in the support tool",
    ),
    col(
        "priority",
        Kind::Choice(PRIORITIES),
        true,
        "high",
        "low, normal, high or urgent",
    ),
    col("subject", Kind::Text, true, "Export fails", "subject line"),
    col(
        "opened_at",
        Kind::Timestamp,
        true,
        "2026-11-02T10:00:00Z",
        "when it was opened",
    ),
    col(
        "resolved_at",
        Kind::Timestamp,
        false,
        "2026-11-03T16:30:00Z",
        "when it was resolved",
    ),
    col(
        "csat",
        Kind::Int(1, 5),
        false,
        "4",
        "satisfaction rating 1–5",
    ),
    col(
        "feature_request",
        Kind::Bool,
        false,
        "false",
        "whether it asks for a feature",
    ),
];

pub(super) const NPS: &[Column] = &[
    ACCOUNT_ID,
    col("external_id", Kind::Text, true, "NPS-77", "response id"),
    col(
        "responded_at",
        Kind::Timestamp,
        true,
        "2026-10-01T08:00:00Z",
        "when",
    ),
    col("score", Kind::Int(0, 10), true, "9", "0–10"),
    col(
        "user_id",
        Kind::Text,
        false,
        "u_8f3a",
        "pseudonymous id of the respondent",
    ),
    col("comment", Kind::Text, false, "Love the boards", "free text"),
];

pub(super) const NOTES: &[Column] = &[
    ACCOUNT_ID,
    col(
        "external_id",
        Kind::Text,
        true,
        "N-9001",
        "note id in the CRM",
    ),
    col("author", Kind::Text, true, "Casey Success", "who wrote it"),
    col(
        "noted_at",
        Kind::Timestamp,
        true,
        "2026-11-10T12:00:00Z",
        "when",
    ),
    col(
        "body",
        Kind::Text,
        true,
        "QBR went well; wants SSO",
        "the note",
    ),
];

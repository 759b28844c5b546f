//! What each entity's batch may contain: its columns, which are required, and their types.
//! The same specification serves CSV headers, JSON keys and the documentation page.

use std::fmt;
use std::str::FromStr;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Entity {
    Accounts,
    Contacts,
    Subscriptions,
    Events,
    Tickets,
    Nps,
    Notes,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Text,
    /// An email address (`name@domain`), as a mail server would accept it.
    Email,
    /// A whole number within the bounds.
    Int(i64, i64),
    /// Dollars with at most two decimals, not negative; stored as cents.
    Money,
    /// `YYYY-MM-DD`.
    Date,
    /// RFC 3339 (`2026-01-31T09:30:00Z`) or `YYYY-MM-DD HH:MM:SS` in UTC.
    Timestamp,
    /// true/false, yes/no, 1/0.
    Bool,
    Choice(&'static [&'static str]),
}

pub struct Column {
    pub name: &'static str,
    pub kind: Kind,
    pub required: bool,
    pub example: &'static str,
    pub meaning: &'static str,
}

const fn col(
    name: &'static str,
    kind: Kind,
    required: bool,
    example: &'static str,
    meaning: &'static str,
) -> Column {
    Column {
        name,
        kind,
        required,
        example,
        meaning,
    }
}

/// The reference every entity but accounts carries.
const ACCOUNT_ID: Column = col(
    "account_id",
    Kind::Text,
    true,
    "ACME-001",
    "the account's external_id",
);

pub const STATUSES: &[&str] = &["trial", "active", "churned"];
pub const PRIORITIES: &[&str] = &["low", "normal", "high", "urgent"];

const ACCOUNTS: &[Column] = &[
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
        true,
        "25",
        "licensed seats",
    ),
    col(
        "mrr",
        Kind::Money,
        true,
        "1250.00",
        "monthly recurring revenue in dollars (segment follows from it)",
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

const CONTACTS: &[Column] = &[
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

const SUBSCRIPTIONS: &[Column] = &[
    ACCOUNT_ID,
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
        "first day after the period",
    ),
    col("plan", Kind::Text, true, "business", "plan in this period"),
    col(
        "seats",
        Kind::Int(0, 1_000_000),
        true,
        "25",
        "seats in this period",
    ),
    col(
        "mrr",
        Kind::Money,
        true,
        "1250.00",
        "monthly recurring revenue in dollars",
    ),
];

const EVENTS: &[Column] = &[
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

const TICKETS: &[Column] = &[
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

const NPS: &[Column] = &[
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

const NOTES: &[Column] = &[
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

impl Entity {
    pub const ALL: [Entity; 7] = [
        Entity::Accounts,
        Entity::Contacts,
        Entity::Subscriptions,
        Entity::Events,
        Entity::Tickets,
        Entity::Nps,
        Entity::Notes,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Entity::Accounts => "accounts",
            Entity::Contacts => "contacts",
            Entity::Subscriptions => "subscriptions",
            Entity::Events => "events",
            Entity::Tickets => "tickets",
            Entity::Nps => "nps",
            Entity::Notes => "notes",
        }
    }

    pub fn columns(self) -> &'static [Column] {
        match self {
            Entity::Accounts => ACCOUNTS,
            Entity::Contacts => CONTACTS,
            Entity::Subscriptions => SUBSCRIPTIONS,
            Entity::Events => EVENTS,
            Entity::Tickets => TICKETS,
            Entity::Nps => NPS,
            Entity::Notes => NOTES,
        }
    }

    /// How fresh this source is expected to be, in minutes (from the pipeline sources).
    pub fn freshness_minutes(self) -> Option<i64> {
        match self {
            Entity::Events => Some(120),
            Entity::Tickets => Some(15),
            Entity::Subscriptions => Some(60),
            Entity::Accounts | Entity::Contacts | Entity::Notes => Some(30),
            Entity::Nps => Some(24 * 60),
        }
    }
}

impl fmt::Display for Entity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Entity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Entity::ALL
            .into_iter()
            .find(|e| e.as_str() == s)
            .ok_or_else(|| format!("unknown entity '{s}'"))
    }
}

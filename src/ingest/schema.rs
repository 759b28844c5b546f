//! What each entity's batch may contain: its columns, which are required, and their types.
//! The same specification serves CSV headers, JSON keys and the documentation page.

use std::fmt;
use std::str::FromStr;

use super::columns::{ACCOUNTS, CONTACTS, EVENTS, NOTES, NPS, SUBSCRIPTIONS, TICKETS};

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

pub(super) const fn col(
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
pub const STATUSES: &[&str] = &["trial", "active", "churned"];
pub const PRIORITIES: &[&str] = &["low", "normal", "high", "urgent"];

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

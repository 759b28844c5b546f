//! Turning a validated table into typed rows, entity by entity, with every problem named
//! by row and column. Nothing here writes.

use std::collections::{HashMap, HashSet};

use time::{Date, OffsetDateTime};
use uuid::Uuid;

use super::cells::Reader;

pub struct AccountRow {
    pub external_id: String,
    pub name: String,
    pub plan: String,
    pub seats: i32,
    pub mrr_cents: i64,
    pub customer_since: Date,
    pub renewal_date: Option<Date>,
    pub status: &'static str,
    pub churned_on: Option<Date>,
    pub owner_id: Option<Uuid>,
    pub executive_sponsor: Option<String>,
}

pub struct ContactRow {
    pub account_id: Uuid,
    pub external_id: String,
    pub name: Option<String>,
    pub email: Option<String>,
    pub title: Option<String>,
    pub champion: bool,
    pub user_ref: Option<String>,
}

pub struct SubscriptionRow {
    pub account_id: Uuid,
    pub period_start: Date,
    pub period_end: Date,
    pub plan: String,
    pub seats: i32,
    pub mrr_cents: i64,
}

pub struct TicketRow {
    pub account_id: Uuid,
    pub external_id: String,
    pub priority: &'static str,
    pub subject: String,
    pub opened_at: OffsetDateTime,
    pub resolved_at: Option<OffsetDateTime>,
    pub csat: Option<i16>,
    pub feature_request: bool,
}

pub struct NpsRow {
    pub account_id: Uuid,
    pub external_id: String,
    pub responded_at: OffsetDateTime,
    pub score: i16,
    pub user_ref: Option<String>,
    pub comment: Option<String>,
}

pub struct NoteRow {
    pub account_id: Uuid,
    pub external_id: String,
    pub author: String,
    pub noted_at: OffsetDateTime,
    pub body: String,
}

/// Resolves the `account_id` column (external ids) to Keel ids, naming unknown ones.
pub fn account(r: &mut Reader<'_>, accounts: &HashMap<String, Uuid>, row: usize) -> Option<Uuid> {
    let ext = r.text("account_id", row)?;
    match accounts.get(&ext) {
        Some(id) => Some(*id),
        None => {
            r.errors
                .add(row + 1, "account_id", format!("unknown account '{ext}'"));
            None
        }
    }
}

/// Records a duplicate of `key` within the batch.
fn unique<K: std::hash::Hash + Eq>(
    r: &mut Reader<'_>,
    seen: &mut HashSet<K>,
    key: K,
    column: &str,
    shown: &str,
    row: usize,
) -> bool {
    if seen.insert(key) {
        true
    } else {
        r.errors.add(
            row + 1,
            column,
            format!("duplicate key '{shown}' within the batch"),
        );
        false
    }
}

pub fn accounts(r: &mut Reader<'_>, owners: &HashMap<String, Uuid>) -> Vec<AccountRow> {
    let mut out = Vec::with_capacity(r.table.len());
    let mut seen = HashSet::new();
    for row in 0..r.table.len() {
        let external_id = r.text("external_id", row);
        let name = r.text("name", row);
        let plan = r.text("plan", row);
        let seats = r.int("seats", row);
        let mrr = r.money("mrr", row);
        let since = r.date("customer_since", row);
        let renewal = r.date("renewal_date", row);
        let status = r.choice("status", row).unwrap_or("active");
        let churned_on = r.date("churned_on", row);
        let owner = r.text("owner_email", row).and_then(|email| {
            let id = owners.get(&email.to_lowercase()).copied();
            if id.is_none() {
                r.errors.add(
                    row + 1,
                    "owner_email",
                    format!("no Keel user has the email '{email}'"),
                );
            }
            id
        });
        let sponsor = r.text("executive_sponsor", row);
        if (status == "churned") != churned_on.is_some() {
            r.errors.add(
                row + 1,
                "churned_on",
                "give churned_on exactly when status is churned",
            );
            continue;
        }
        let (Some(external_id), Some(name), Some(plan), Some(seats), Some(mrr), Some(since)) =
            (external_id, name, plan, seats, mrr, since)
        else {
            continue;
        };
        if !unique(
            r,
            &mut seen,
            external_id.clone(),
            "external_id",
            &external_id,
            row,
        ) {
            continue;
        }
        out.push(AccountRow {
            external_id,
            name,
            plan,
            seats: seats as i32,
            mrr_cents: mrr,
            customer_since: since,
            renewal_date: renewal,
            status,
            churned_on,
            owner_id: owner,
            executive_sponsor: sponsor,
        });
    }
    out
}

pub fn contacts(r: &mut Reader<'_>, accounts: &HashMap<String, Uuid>) -> Vec<ContactRow> {
    let mut out = Vec::with_capacity(r.table.len());
    let mut seen = HashSet::new();
    for row in 0..r.table.len() {
        let account_id = account(r, accounts, row);
        let external_id = r.text("external_id", row);
        let name = r.text("name", row);
        let email = r.text("email", row);
        let title = r.text("title", row);
        let champion = r.bool("champion", row).unwrap_or(false);
        let user_ref = r.text("user_id", row);
        let (Some(account_id), Some(external_id)) = (account_id, external_id) else {
            continue;
        };
        if !unique(
            r,
            &mut seen,
            (account_id, external_id.clone()),
            "external_id",
            &external_id,
            row,
        ) {
            continue;
        }
        out.push(ContactRow {
            account_id,
            external_id,
            name,
            email,
            title,
            champion,
            user_ref,
        });
    }
    out
}

pub fn subscriptions(r: &mut Reader<'_>, accounts: &HashMap<String, Uuid>) -> Vec<SubscriptionRow> {
    let mut out = Vec::with_capacity(r.table.len());
    let mut seen = HashSet::new();
    for row in 0..r.table.len() {
        let account_id = account(r, accounts, row);
        let start = r.date("period_start", row);
        let end = r.date("period_end", row);
        let plan = r.text("plan", row);
        let seats = r.int("seats", row);
        let mrr = r.money("mrr", row);
        let (Some(account_id), Some(start), Some(end), Some(plan), Some(seats), Some(mrr)) =
            (account_id, start, end, plan, seats, mrr)
        else {
            continue;
        };
        if end <= start {
            r.errors.add(
                row + 1,
                "period_end",
                format!("{end} is not after period_start {start}"),
            );
            continue;
        }
        if !unique(
            r,
            &mut seen,
            (account_id, start),
            "period_start",
            &start.to_string(),
            row,
        ) {
            continue;
        }
        out.push(SubscriptionRow {
            account_id,
            period_start: start,
            period_end: end,
            plan,
            seats: seats as i32,
            mrr_cents: mrr,
        });
    }
    out
}

pub fn tickets(r: &mut Reader<'_>, accounts: &HashMap<String, Uuid>) -> Vec<TicketRow> {
    let mut out = Vec::with_capacity(r.table.len());
    let mut seen = HashSet::new();
    for row in 0..r.table.len() {
        let account_id = account(r, accounts, row);
        let external_id = r.text("external_id", row);
        let priority = r.choice("priority", row);
        let subject = r.text("subject", row);
        let opened = r.timestamp("opened_at", row);
        let resolved = r.timestamp("resolved_at", row);
        let csat = r.int("csat", row);
        let feature_request = r.bool("feature_request", row).unwrap_or(false);
        let (Some(account_id), Some(external_id), Some(priority), Some(subject), Some(opened)) =
            (account_id, external_id, priority, subject, opened)
        else {
            continue;
        };
        if resolved.is_some_and(|t| t < opened) {
            r.errors.add(row + 1, "resolved_at", "is before opened_at");
            continue;
        }
        if !unique(
            r,
            &mut seen,
            (account_id, external_id.clone()),
            "external_id",
            &external_id,
            row,
        ) {
            continue;
        }
        out.push(TicketRow {
            account_id,
            external_id,
            priority,
            subject,
            opened_at: opened,
            resolved_at: resolved,
            csat: csat.map(|c| c as i16),
            feature_request,
        });
    }
    out
}

pub fn nps(r: &mut Reader<'_>, accounts: &HashMap<String, Uuid>) -> Vec<NpsRow> {
    let mut out = Vec::with_capacity(r.table.len());
    let mut seen = HashSet::new();
    for row in 0..r.table.len() {
        let account_id = account(r, accounts, row);
        let external_id = r.text("external_id", row);
        let at = r.timestamp("responded_at", row);
        let score = r.int("score", row);
        let user_ref = r.text("user_id", row);
        let comment = r.text("comment", row);
        let (Some(account_id), Some(external_id), Some(at), Some(score)) =
            (account_id, external_id, at, score)
        else {
            continue;
        };
        if !unique(
            r,
            &mut seen,
            (account_id, external_id.clone()),
            "external_id",
            &external_id,
            row,
        ) {
            continue;
        }
        out.push(NpsRow {
            account_id,
            external_id,
            responded_at: at,
            score: score as i16,
            user_ref,
            comment,
        });
    }
    out
}

pub fn notes(r: &mut Reader<'_>, accounts: &HashMap<String, Uuid>) -> Vec<NoteRow> {
    let mut out = Vec::with_capacity(r.table.len());
    let mut seen = HashSet::new();
    for row in 0..r.table.len() {
        let account_id = account(r, accounts, row);
        let external_id = r.text("external_id", row);
        let author = r.text("author", row);
        let at = r.timestamp("noted_at", row);
        let body = r.text("body", row);
        let (Some(account_id), Some(external_id), Some(author), Some(at), Some(body)) =
            (account_id, external_id, author, at, body)
        else {
            continue;
        };
        if !unique(
            r,
            &mut seen,
            (account_id, external_id.clone()),
            "external_id",
            &external_id,
            row,
        ) {
            continue;
        }
        out.push(NoteRow {
            account_id,
            external_id,
            author,
            noted_at: at,
            body,
        });
    }
    out
}

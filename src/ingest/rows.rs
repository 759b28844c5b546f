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
    /// Left out: what billing gives (or 0).
    pub seats: Option<i32>,
    pub mrr_cents: Option<i64>,
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

/// One billing line: a plan or an add-on over a period. An account's MRR on a day is the
/// sum of its lines in force that day.
pub struct SubscriptionRow {
    pub account_id: Uuid,
    /// The line within the account ("base", "sso-addon"); empty for a single-line account.
    pub line_id: String,
    pub period_start: Date,
    pub period_end: Date,
    pub plan: String,
    pub seats: i32,
    pub mrr_cents: i64,
    /// As billed: the amount for the term before discount, the discount, the term's months.
    pub amount_cents: Option<i64>,
    pub discount_cents: i64,
    pub term_months: Option<i16>,
}

/// Whole months from `start` to `end` (2026-01-15 to 2027-01-15 is 12).
pub fn whole_months(start: Date, end: Date) -> i64 {
    let months = |d: Date| i64::from(d.year()) * 12 + i64::from(u8::from(d.month()));
    months(end) - months(start) - i64::from(end.day() < start.day())
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

/// Reads every row with `read`, keeping the rows that read cleanly and whose key has not
/// been seen earlier in the batch (a repeat is an error on `key_column`).
fn each_row<K: std::hash::Hash + Eq, T>(
    r: &mut Reader<'_>,
    key_column: &str,
    mut read: impl FnMut(&mut Reader<'_>, usize) -> Option<(K, String, T)>,
) -> Vec<T> {
    let mut out = Vec::with_capacity(r.table.len());
    let mut seen = HashSet::new();
    for row in 0..r.table.len() {
        let Some((key, shown, item)) = read(r, row) else {
            continue;
        };
        if seen.insert(key) {
            out.push(item);
        } else {
            r.errors.add(
                row + 1,
                key_column,
                format!("duplicate key '{shown}' within the batch"),
            );
        }
    }
    out
}

pub fn accounts(r: &mut Reader<'_>, owners: &HashMap<String, Uuid>) -> Vec<AccountRow> {
    each_row(r, "external_id", |r, row| {
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
            return None;
        }
        let item = AccountRow {
            external_id: external_id?,
            name: name?,
            plan: plan?,
            seats: seats.map(|s| s as i32),
            mrr_cents: mrr,
            customer_since: since?,
            renewal_date: renewal,
            status,
            churned_on,
            owner_id: owner,
            executive_sponsor: sponsor,
        };
        Some((item.external_id.clone(), item.external_id.clone(), item))
    })
}

pub fn contacts(r: &mut Reader<'_>, accounts: &HashMap<String, Uuid>) -> Vec<ContactRow> {
    each_row(r, "external_id", |r, row| {
        let account_id = account(r, accounts, row);
        let external_id = r.text("external_id", row);
        let item = ContactRow {
            name: r.text("name", row),
            email: r.email("email", row),
            title: r.text("title", row),
            champion: r.bool("champion", row).unwrap_or(false),
            user_ref: r.text("user_id", row),
            account_id: account_id?,
            external_id: external_id?,
        };
        Some((
            (item.account_id, item.external_id.clone()),
            item.external_id.clone(),
            item,
        ))
    })
}

pub fn subscriptions(r: &mut Reader<'_>, accounts: &HashMap<String, Uuid>) -> Vec<SubscriptionRow> {
    each_row(r, "period_start", |r, row| {
        let account_id = account(r, accounts, row);
        let line_id = r.text("line_id", row).unwrap_or_default();
        let start = r.date("period_start", row);
        let end = r.date("period_end", row);
        let plan = r.text("plan", row);
        let seats = r.int("seats", row).unwrap_or(0);
        let mrr = r.money("mrr", row);
        let amount = r.money("amount", row);
        let discount = r.money("discount", row).unwrap_or(0);
        let term = r.int("term_months", row);
        let (start, end) = (start?, end?);
        if end <= start {
            return r.fail(
                row,
                "period_end",
                format!("{end} is not after period_start {start}"),
            );
        }
        let mrr_cents = match (r.given("mrr", row), r.given("amount", row)) {
            (true, true) => {
                return r.fail(
                    row,
                    "amount",
                    "give mrr or the term's amount, not both".into(),
                );
            }
            (false, false) => {
                return r.fail(row, "mrr", "required: mrr, or amount for the term".into());
            }
            (true, false) if discount > 0 => {
                return r.fail(
                    row,
                    "discount",
                    "a discount applies to amount, not to mrr".into(),
                );
            }
            (true, false) => mrr?,
            (false, true) => {
                let amount = amount?;
                if discount > amount {
                    return r.fail(
                        row,
                        "discount",
                        format!(
                            "{} is more than the amount {}",
                            discount as f64 / 100.0,
                            amount as f64 / 100.0
                        ),
                    );
                }
                let months = term.unwrap_or_else(|| whole_months(start, end));
                if months < 1 {
                    return r.fail(
                        row,
                        "term_months",
                        format!(
                            "the period {start} to {end} is shorter than a month: give term_months"
                        ),
                    );
                }
                ((amount - discount) as f64 / months as f64).round() as i64
            }
        };
        let item = SubscriptionRow {
            account_id: account_id?,
            period_start: start,
            period_end: end,
            plan: plan?,
            seats: seats as i32,
            mrr_cents,
            amount_cents: amount,
            discount_cents: discount,
            term_months: term.map(|t| t as i16),
            line_id,
        };
        let shown = if item.line_id.is_empty() {
            start.to_string()
        } else {
            format!("{} from {start}", item.line_id)
        };
        Some(((item.account_id, item.line_id.clone(), start), shown, item))
    })
}

pub fn tickets(r: &mut Reader<'_>, accounts: &HashMap<String, Uuid>) -> Vec<TicketRow> {
    each_row(r, "external_id", |r, row| {
        let account_id = account(r, accounts, row);
        let external_id = r.text("external_id", row);
        let priority = r.choice("priority", row);
        let subject = r.text("subject", row);
        let opened = r.timestamp("opened_at", row);
        let resolved = r.timestamp("resolved_at", row);
        let csat = r.int("csat", row);
        let feature_request = r.bool("feature_request", row).unwrap_or(false);
        let opened = opened?;
        if resolved.is_some_and(|t| t < opened) {
            r.errors.add(row + 1, "resolved_at", "is before opened_at");
            return None;
        }
        let item = TicketRow {
            account_id: account_id?,
            external_id: external_id?,
            priority: priority?,
            subject: subject?,
            opened_at: opened,
            resolved_at: resolved,
            csat: csat.map(|c| c as i16),
            feature_request,
        };
        Some((
            (item.account_id, item.external_id.clone()),
            item.external_id.clone(),
            item,
        ))
    })
}

pub fn nps(r: &mut Reader<'_>, accounts: &HashMap<String, Uuid>) -> Vec<NpsRow> {
    each_row(r, "external_id", |r, row| {
        let account_id = account(r, accounts, row);
        let external_id = r.text("external_id", row);
        let at = r.timestamp("responded_at", row);
        let score = r.int("score", row);
        let item = NpsRow {
            user_ref: r.text("user_id", row),
            comment: r.text("comment", row),
            account_id: account_id?,
            external_id: external_id?,
            responded_at: at?,
            score: score? as i16,
        };
        Some((
            (item.account_id, item.external_id.clone()),
            item.external_id.clone(),
            item,
        ))
    })
}

pub fn notes(r: &mut Reader<'_>, accounts: &HashMap<String, Uuid>) -> Vec<NoteRow> {
    each_row(r, "external_id", |r, row| {
        let account_id = account(r, accounts, row);
        let external_id = r.text("external_id", row);
        let author = r.text("author", row);
        let at = r.timestamp("noted_at", row);
        let body = r.text("body", row);
        let item = NoteRow {
            account_id: account_id?,
            external_id: external_id?,
            author: author?,
            noted_at: at?,
            body: body?,
        };
        Some((
            (item.account_id, item.external_id.clone()),
            item.external_id.clone(),
            item,
        ))
    })
}

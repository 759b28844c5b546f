//! Product events → daily roll-ups per account-user: the events of each type, and the
//! figures the features need under the event mapping (core actions, comments, invites,
//! feature areas touched).

use std::borrow::Cow;
use std::collections::{HashMap, HashSet};

use time::{Date, OffsetDateTime};
use uuid::Uuid;

use polars::prelude::{ChunkFullNull, StringChunked};

use crate::taxonomy::{Roles, Types};

type Fast<K, V> = HashMap<K, V, foldhash::fast::RandomState>;

use super::cells::parse_timestamp;
use super::table::{Errors, Table};

/// The figures a roll-up sums, for a person's day or an account's.
#[derive(Default)]
pub struct Totals {
    /// Counted events (all but those of ignored types).
    pub events: i64,
    pub core_actions: i64,
    pub comments: i64,
    pub invites: i64,
    /// Bitmask of the modules used.
    pub categories: i32,
    /// (event type id, events), by type id once sorted.
    pub types: Vec<(i16, i64)>,
}

impl Totals {
    /// Adds `n` events of type `id`, which plays `roles` under the mapping.
    fn add(&mut self, id: i16, roles: Roles, n: i64) {
        let of = |yes: bool| if yes { n } else { 0 };
        self.events += of(roles.counted);
        self.core_actions += of(roles.core);
        self.comments += of(roles.collaboration);
        self.invites += of(roles.invite);
        self.categories |= roles.modules;
        self.add_type(id, n);
    }

    /// Adds another day's totals.
    fn merge(&mut self, other: &Totals) {
        self.events += other.events;
        self.core_actions += other.core_actions;
        self.comments += other.comments;
        self.invites += other.invites;
        self.categories |= other.categories;
        for &(id, n) in &other.types {
            self.add_type(id, n);
        }
    }

    fn add_type(&mut self, id: i16, n: i64) {
        match self.types.iter_mut().find(|t| t.0 == id) {
            Some(t) => t.1 += n,
            None => self.types.push((id, n)),
        }
    }
}

/// One account-user-day of activity.
pub struct UserDay {
    pub account: Uuid,
    pub day: Date,
    pub user_ref: String,
    pub totals: Totals,
}

/// One account-day of a batch: its user-days summed (`active_users`: those with counted
/// events).
pub struct AccountDay {
    pub account: Uuid,
    pub day: Date,
    pub active_users: i64,
    pub totals: Totals,
}

pub struct Rollup {
    /// By account, day and user (user refs in byte order, as the roll-up's key sorts them).
    pub rows: Vec<UserDay>,
    /// The account-days of `rows`, in the same order.
    pub days: Vec<AccountDay>,
    pub events: u64,
    pub newest: Option<OffsetDateTime>,
    /// Per event type id, the first and last day of the batch that has it.
    pub seen: Vec<(i16, Date, Date)>,
}

fn valid_event_type(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// An event type as Keel keeps it: products name events their own way ("Deal Created",
/// "page.view", "Signup-Completed"), so names are lower-cased and every run of other
/// characters becomes one `_`. `None` when nothing is left, or more than 64 characters.
pub fn event_name(raw: &str) -> Option<Cow<'_, str>> {
    if valid_event_type(raw) {
        return Some(Cow::Borrowed(raw));
    }
    let mut out = String::with_capacity(raw.len());
    for c in raw.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('_') {
            out.push('_');
        }
    }
    let name = out.trim_end_matches('_');
    (!name.is_empty() && name.len() <= 64).then(|| Cow::Owned(name.to_owned()))
}

/// (account, event id) of every event that carries an id and names a known account.
pub fn event_keys(table: &Table, accounts: &HashMap<String, Uuid>) -> Vec<(Uuid, String)> {
    let (Some(acct), Some(ids)) = (table.column("account_id"), table.column("event_id")) else {
        return Vec::new();
    };
    acct.iter()
        .zip(ids.iter())
        .filter_map(|(a, id)| {
            let account = accounts.get(a?.trim())?;
            let id = id.map(str::trim).filter(|s| !s.is_empty())?;
            Some((*account, id.to_owned()))
        })
        .collect()
}

/// The event types a batch names (valid names only, each once), to look their ids up.
pub fn type_names(table: &Table) -> Vec<String> {
    let names: HashSet<Cow<'_, str>> = table
        .column("event_type")
        .map(|c| {
            c.iter()
                .flatten()
                .filter_map(|t| event_name(t.trim()))
                .collect()
        })
        .unwrap_or_default();
    names.into_iter().map(Cow::into_owned).collect()
}

/// Sums sorted user-days per account-day.
fn account_days(rows: &[UserDay]) -> Vec<AccountDay> {
    let mut out: Vec<AccountDay> = Vec::new();
    for r in rows {
        if !out
            .last()
            .is_some_and(|d| d.account == r.account && d.day == r.day)
        {
            out.push(AccountDay {
                account: r.account,
                day: r.day,
                active_users: 0,
                totals: Totals::default(),
            });
        }
        let Some(d) = out.last_mut() else { continue };
        d.active_users += i64::from(r.totals.events > 0);
        d.totals.merge(&r.totals);
    }
    for d in &mut out {
        d.totals.types.sort_unstable();
    }
    out
}

/// Validates every event and rolls the batch up per account, day and user under the
/// mapping's `types`, leaving out the events in `seen` (their id arrived in an earlier batch).
pub fn rollup(
    table: &Table,
    accounts: &HashMap<String, Uuid>,
    types: &Types,
    seen: &HashSet<(Uuid, String)>,
    errors: &mut Errors,
) -> Option<Rollup> {
    let n = table.len();
    let empty = StringChunked::full_null("".into(), n);
    let col = |name| table.column(name).unwrap_or(&empty);
    let (acct_col, user_col, type_col, ts_col, count_col, id_col) = (
        col("account_id"),
        col("user_id"),
        col("event_type"),
        col("timestamp"),
        col("count"),
        col("event_id"),
    );
    // Every row looks its account and type up and adds to its group: a fast hash over
    // these few short keys, not the DoS-resistant default (a third of a batch's roll-up).
    let accounts: Fast<&str, Uuid> = accounts.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    let types: Fast<&str, (i16, Roles)> = types.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    let mut groups: Fast<(Uuid, i32, &str), Totals> = Fast::default();
    let mut days: Fast<i16, (i32, i32)> = Fast::default();
    let mut seen_ids = HashSet::new();
    let mut newest: Option<OffsetDateTime> = None;
    // Clocks drift: allow five minutes.
    let latest = OffsetDateTime::now_utc() + time::Duration::minutes(5);
    let mut total: u64 = 0;

    let rows = acct_col
        .iter()
        .zip(user_col.iter())
        .zip(type_col.iter())
        .zip(ts_col.iter())
        .zip(count_col.iter())
        .zip(id_col.iter());
    for (i, (((((a, u), t), ts), c), id)) in rows.enumerate() {
        let row = i + 1;
        let mut ok = true;
        let mut fail = |column: &str, message: String| {
            errors.add(row, column, message);
            ok = false;
        };
        let account = match a.map(str::trim).filter(|s| !s.is_empty()) {
            None => {
                fail("account_id", "required but empty".into());
                None
            }
            Some(a) => {
                let found = accounts.get(a).copied();
                if found.is_none() {
                    fail("account_id", format!("unknown account '{a}'"));
                }
                found
            }
        };
        let user = match u.map(str::trim) {
            None | Some("") => {
                fail("user_id", "required but empty".into());
                ""
            }
            Some(u) if u.chars().any(char::is_control) => {
                fail("user_id", "contains control characters".into());
                ""
            }
            Some(u) => u,
        };
        let raw_type = t.map(str::trim).unwrap_or("");
        let t = event_name(raw_type);
        if raw_type.is_empty() {
            fail("event_type", "required but empty".into());
        } else if t.is_none() {
            fail(
                "event_type",
                format!("'{raw_type}' is not an event type (letters and digits, at most 64)"),
            );
        }
        let when = match ts.map(str::trim).filter(|s| !s.is_empty()) {
            None => {
                fail("timestamp", "required but empty".into());
                None
            }
            Some(s) => {
                let parsed = parse_timestamp(s);
                if parsed.is_some_and(|t| t > latest) {
                    fail("timestamp", format!("'{s}' is in the future"));
                } else if parsed.is_none() {
                    fail(
                        "timestamp",
                        format!(
                            "'{s}' is not a timestamp (RFC 3339, YYYY-MM-DD HH:MM:SS in UTC, or Unix time)"
                        ),
                    );
                }
                parsed
            }
        };
        let n_events: i64 = match c.map(str::trim).filter(|s| !s.is_empty()) {
            None => 1,
            Some(s) => match s.parse::<i64>() {
                Ok(v) if (1..=1_000_000).contains(&v) => v,
                _ => {
                    fail(
                        "count",
                        format!("'{s}' is not a whole number from 1 to 1000000"),
                    );
                    1
                }
            },
        };
        let id = id.map(str::trim).filter(|s| !s.is_empty());
        if let Some(id) = id
            && !seen_ids.insert(id)
        {
            fail("event_id", format!("duplicate key '{id}' within the batch"));
        }
        if errors.is_full() {
            break;
        }
        let (true, Some(account), Some(when), Some(&(type_id, roles))) =
            (ok, account, when, t.and_then(|t| types.get(t.as_ref())))
        else {
            continue;
        };
        if id.is_some_and(|id| seen.contains(&(account, id.to_owned()))) {
            continue;
        }
        newest = newest.max(Some(when));
        total += n_events as u64;
        let day = when.date().to_julian_day();
        let span = days.entry(type_id).or_insert((day, day));
        *span = (span.0.min(day), span.1.max(day));
        groups
            .entry((account, day, user))
            .or_default()
            .add(type_id, roles, n_events);
    }
    if !errors.is_empty() {
        return None;
    }
    let date = |d: i32| Date::from_julian_day(d).unwrap_or(Date::MIN);
    let mut rows: Vec<UserDay> = groups
        .into_iter()
        .map(|((account, day, user), mut totals)| {
            totals.types.sort_unstable();
            UserDay {
                account,
                day: date(day),
                user_ref: user.to_owned(),
                totals,
            }
        })
        .collect();
    rows.sort_unstable_by(|a, b| {
        (a.account, a.day, &a.user_ref).cmp(&(b.account, b.day, &b.user_ref))
    });
    let seen = days
        .into_iter()
        .map(|(id, (first, last))| (id, date(first), date(last)))
        .collect();
    Some(Rollup {
        days: account_days(&rows),
        rows,
        events: total,
        newest,
        seen,
    })
}

#[cfg(test)]
mod tests {
    use super::event_name;

    #[test]
    fn event_names_are_normalised_the_way_products_write_them() {
        assert_eq!(event_name("task_created").as_deref(), Some("task_created"));
        assert_eq!(event_name("Deal Created").as_deref(), Some("deal_created"));
        assert_eq!(event_name("page.view").as_deref(), Some("page_view"));
        assert_eq!(
            event_name("  Signup--Completed! ").as_deref(),
            Some("signup_completed")
        );
        assert_eq!(event_name("$identify").as_deref(), Some("identify"));
        assert_eq!(event_name("!!!"), None);
        assert_eq!(event_name(&"a".repeat(65)), None);
    }
}

//! Product events → daily roll-ups per account-user, aggregated with polars.

use std::collections::{HashMap, HashSet};

use polars::prelude::*;
use time::OffsetDateTime;
use uuid::Uuid;

use super::cells::parse_timestamp;
use super::table::{Errors, Table};

/// Feature categories by event-type prefix, in bitmask order (bit i = CATEGORIES[i]).
pub const CATEGORIES: [(&str, &str); 10] = [
    ("board_", "kanban_boards"),
    ("gantt_", "gantt"),
    ("timeline_", "timeline"),
    ("automation_", "automation"),
    ("form_", "forms"),
    ("dashboard_", "dashboards"),
    ("integration_", "integrations"),
    ("report_", "reports"),
    ("api_", "api"),
    ("invite_sent", "team_invites"),
];

/// Core actions (the spec's definition).
pub const CORE_ACTIONS: [&str; 4] = [
    "task_created",
    "task_completed",
    "comment_added",
    "file_uploaded",
];

pub fn category_bit(event_type: &str) -> i32 {
    CATEGORIES
        .iter()
        .position(|(prefix, _)| event_type.starts_with(prefix))
        .map_or(0, |i| 1 << i)
}

/// One account-user-day of activity.
pub struct UserDay {
    pub account: Uuid,
    pub day: i32,
    pub user_ref: String,
    pub events: i64,
    pub core_actions: i64,
    pub comments: i64,
    pub invites: i64,
    pub categories: i64,
}

pub struct Rollup {
    pub rows: Vec<UserDay>,
    pub events: u64,
    pub newest: Option<OffsetDateTime>,
}

fn valid_event_type(s: &str) -> bool {
    !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
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

/// Validates every event and rolls the batch up per account, day and user, leaving out the
/// events in `seen` (their id arrived in an earlier batch).
pub fn rollup(
    table: &Table,
    accounts: &HashMap<String, Uuid>,
    seen: &HashSet<(Uuid, String)>,
    errors: &mut Errors,
) -> PolarsResult<Option<Rollup>> {
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

    let mut ids: Vec<Uuid> = Vec::with_capacity(accounts.len());
    let mut index: HashMap<&str, u32> = HashMap::with_capacity(accounts.len());
    for (external, id) in accounts {
        index.insert(external.as_str(), ids.len() as u32);
        ids.push(*id);
    }
    let mut acct = Vec::with_capacity(n);
    let mut day = Vec::with_capacity(n);
    let mut count = Vec::with_capacity(n);
    let mut core = Vec::with_capacity(n);
    let mut comments = Vec::with_capacity(n);
    let mut invites = Vec::with_capacity(n);
    let mut bits = Vec::with_capacity(n);
    let mut users = Vec::with_capacity(n);
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
        let a_idx = match a.map(str::trim).filter(|s| !s.is_empty()) {
            None => {
                fail("account_id", "required but empty".into());
                0
            }
            Some(a) => match index.get(a) {
                Some(&ix) => ix,
                None => {
                    fail("account_id", format!("unknown account '{a}'"));
                    0
                }
            },
        };
        match u.map(str::trim) {
            None | Some("") => fail("user_id", "required but empty".into()),
            Some(u) if u.chars().any(char::is_control) => {
                fail("user_id", "contains control characters".into())
            }
            Some(_) => {}
        }
        let t = t.map(str::trim).unwrap_or("");
        if t.is_empty() {
            fail("event_type", "required but empty".into());
        } else if !valid_event_type(t) {
            fail(
                "event_type",
                format!("'{t}' is not an event type (lowercase letters, digits, _)"),
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
                        format!("'{s}' is not a timestamp (RFC 3339 or YYYY-MM-DD HH:MM:SS UTC)"),
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
        let counted_before = id.is_some_and(|id| {
            ok && !seen.is_empty() && seen.contains(&(ids[a_idx as usize], id.to_owned()))
        });
        if errors.is_full() {
            break;
        }
        if !ok || counted_before {
            continue;
        }
        let Some(when) = when else { continue };
        newest = newest.max(Some(when));
        total += n_events as u64;
        acct.push(a_idx);
        day.push(when.date().to_julian_day() - 2_440_588);
        count.push(n_events);
        let is = |name: &str| if t == name { n_events } else { 0 };
        core.push(if CORE_ACTIONS.contains(&t) {
            n_events
        } else {
            0
        });
        comments.push(is("comment_added"));
        invites.push(is("invite_sent"));
        bits.push(category_bit(t) as i64);
        users.push(u.map(str::trim));
    }
    if !errors.is_empty() {
        return Ok(None);
    }

    let kept = acct.len();
    let users: StringChunked = users.into_iter().collect();
    let frame = DataFrame::new(
        kept,
        vec![
            Column::new("acct".into(), acct),
            Column::new("user".into(), users),
            Column::new("day".into(), day),
            Column::new("n".into(), count),
            Column::new("core".into(), core),
            Column::new("comments".into(), comments),
            Column::new("invites".into(), invites),
            Column::new("bit".into(), bits),
        ],
    )?;
    let grouped = frame
        .lazy()
        .group_by([col_expr("acct"), col_expr("day"), col_expr("user")])
        .agg([
            col_expr("n").sum().alias("events"),
            col_expr("core").sum(),
            col_expr("comments").sum(),
            col_expr("invites").sum(),
            // bits are powers of two, so the sum of the distinct ones is their bitwise or
            col_expr("bit").unique().sum().alias("categories"),
        ])
        .collect()?;

    let acct = grouped.column("acct")?.u32()?;
    let day = grouped.column("day")?.i32()?;
    let user = grouped.column("user")?.str()?;
    let events = grouped.column("events")?.i64()?;
    let core = grouped.column("core")?.i64()?;
    let comments = grouped.column("comments")?.i64()?;
    let invites = grouped.column("invites")?.i64()?;
    let categories = grouped.column("categories")?.i64()?;
    let rows = (0..grouped.height())
        .map(|i| UserDay {
            account: ids[acct.get(i).unwrap_or(0) as usize],
            day: day.get(i).unwrap_or(0),
            user_ref: user.get(i).unwrap_or("").to_owned(),
            events: events.get(i).unwrap_or(0),
            core_actions: core.get(i).unwrap_or(0),
            comments: comments.get(i).unwrap_or(0),
            invites: invites.get(i).unwrap_or(0),
            categories: categories.get(i).unwrap_or(0),
        })
        .collect();
    Ok(Some(Rollup {
        rows,
        events: total,
        newest,
    }))
}

fn col_expr(name: &str) -> Expr {
    polars::prelude::col(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn categories_follow_event_type_prefixes() {
        assert_eq!(category_bit("board_created"), 1);
        assert_eq!(category_bit("gantt_viewed"), 2);
        assert_eq!(category_bit("invite_sent"), 1 << 9);
        assert_eq!(category_bit("page_viewed"), 0);
        assert_eq!(category_bit("task_created"), 0);
    }
}

//! The catalogue of event types seen: for each, events, accounts and distinct users over
//! the 7, 30 and 90 days up to the newest day of data, and when it was first and last seen.

use sqlx::{FromRow, PgExecutor};
use time::Date;

#[derive(FromRow, Clone, Debug)]
pub struct Profile {
    pub id: i16,
    pub name: String,
    pub first_seen: Option<Date>,
    pub last_seen: Option<Date>,
    pub events_7d: i64,
    pub events_30d: i64,
    pub events_90d: i64,
    pub accounts_7d: i64,
    pub accounts_30d: i64,
    pub accounts_90d: i64,
    pub users_7d: i64,
    pub users_30d: i64,
    pub users_90d: i64,
}

/// The columns the catalogue sorts by (all descending but the name), with their labels.
pub const SORTS: [(&str, &str); 6] = [
    ("name", "name"),
    ("events_30d", "events in 30 days"),
    ("accounts_30d", "accounts in 30 days"),
    ("users_30d", "people in 30 days"),
    ("events_90d", "events in 90 days"),
    ("last_seen", "last seen"),
];

/// The newest day with usage: the catalogue's windows end there, not at today, so a
/// historical export reads as it was.
pub async fn newest_day(db: impl PgExecutor<'_>) -> sqlx::Result<Option<Date>> {
    sqlx::query_scalar("select max(day) from usage_daily")
        .fetch_one(db)
        .await
}

/// Every event type, profiled over the windows ending `day`.
pub async fn profiles(db: impl PgExecutor<'_>, day: Date) -> sqlx::Result<Vec<Profile>> {
    sqlx::query_as(
        r#"with per_day as (
               select x.t, d.day, d.account_id, x.n
               from usage_daily d, unnest(d.event_types, d.type_events) x(t, n)
               where d.day > $1::date - 90 and d.day <= $1),
           by_account as (
               select t,
                      coalesce(sum(n) filter (where day > $1::date - 7), 0)::int8 as events_7d,
                      coalesce(sum(n) filter (where day > $1::date - 30), 0)::int8 as events_30d,
                      sum(n)::int8 as events_90d,
                      count(distinct account_id) filter (where day > $1::date - 7) as accounts_7d,
                      count(distinct account_id) filter (where day > $1::date - 30) as accounts_30d,
                      count(distinct account_id) as accounts_90d
               from per_day group by t),
           by_person as (
               select y.t,
                      count(distinct (u.account_id, u.user_ref)) filter (where u.day > $1::date - 7) as users_7d,
                      count(distinct (u.account_id, u.user_ref)) filter (where u.day > $1::date - 30) as users_30d,
                      count(distinct (u.account_id, u.user_ref)) as users_90d
               from usage_user_daily u, unnest(u.event_types) y(t)
               where u.day > $1::date - 90 and u.day <= $1 group by y.t)
           select e.id, e.name, e.first_seen, e.last_seen,
                  coalesce(a.events_7d, 0) as events_7d, coalesce(a.events_30d, 0) as events_30d,
                  coalesce(a.events_90d, 0) as events_90d,
                  coalesce(a.accounts_7d, 0) as accounts_7d, coalesce(a.accounts_30d, 0) as accounts_30d,
                  coalesce(a.accounts_90d, 0) as accounts_90d,
                  coalesce(u.users_7d, 0) as users_7d, coalesce(u.users_30d, 0) as users_30d,
                  coalesce(u.users_90d, 0) as users_90d
           from event_types e
           left join by_account a on a.t = e.id
           left join by_person u on u.t = e.id
           where e.first_seen is not null"#,
    )
    .bind(day)
    .fetch_all(db)
    .await
}

/// Sorts by one of `SORTS` (unknown keys sort by 30-day events).
pub fn sort(profiles: &mut [Profile], by: &str) {
    let key = |p: &Profile| match by {
        "accounts_30d" => p.accounts_30d,
        "users_30d" => p.users_30d,
        "events_90d" => p.events_90d,
        _ => p.events_30d,
    };
    match by {
        "name" => profiles.sort_by(|a, b| a.name.cmp(&b.name)),
        "last_seen" => profiles.sort_by_key(|p| std::cmp::Reverse(p.last_seen)),
        _ => profiles.sort_by(|a, b| key(b).cmp(&key(a)).then(a.name.cmp(&b.name))),
    }
}

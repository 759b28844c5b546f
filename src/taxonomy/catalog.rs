//! The catalogue of event types seen: for each, events, accounts and distinct people over
//! the 7, 30 and 90 days up to the newest day of data, and when it was first and last seen.
//! Ingestion keeps what they are counted from; the daily run (or a request) counts them
//! and stores them.

use std::collections::HashMap;

use sqlx::{FromRow, PgConnection, PgExecutor, PgPool};
use time::Date;
use uuid::Uuid;

use crate::ingest::usage::UserDay;

#[derive(FromRow, Clone, Debug)]
pub struct Profile {
    pub id: i16,
    pub name: String,
    pub first_seen: Option<Date>,
    pub last_seen: Option<Date>,
    /// The day the figures end on (none until first computed).
    pub as_of: Option<Date>,
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
    Ok(crate::features::db::usage_span(db)
        .await?
        .map(|(_, last)| last))
}

/// Recomputes every event type's figures over the windows ending `day`, on or after the
/// newest day of data, from what ingestion keeps (`Seen`): each type's events per day, and
/// per account and per person the last day they used each type.
pub async fn refresh(pool: &PgPool, day: Date) -> sqlx::Result<u64> {
    let mut tx = pool.begin().await?;
    sqlx::query("delete from event_type_profiles")
        .execute(&mut *tx)
        .await?;
    let done = sqlx::query(
        r#"with events as (
               select type_id, coalesce(sum(events) filter (where day > $1::date - 7), 0)::int8 as e7,
                      coalesce(sum(events) filter (where day > $1::date - 30), 0)::int8 as e30,
                      sum(events)::int8 as e90
               from event_type_days where day > $1::date - 90 and day <= $1 group by 1),
           accounts as (
               select x.t as type_id, count(*) filter (where x.d > $1::date - 7) as a7,
                      count(*) filter (where x.d > $1::date - 30) as a30, count(*) as a90
               from event_type_accounts a, unnest(a.types, a.last_days) x(t, d)
               where x.d > $1::date - 90 group by 1),
           people as (
               select x.t as type_id, count(*) filter (where x.d > $1::date - 7) as u7,
                      count(*) filter (where x.d > $1::date - 30) as u30, count(*) as u90
               from event_type_people p, unnest(p.types, p.last_days) x(t, d)
               where x.d > $1::date - 90 group by 1)
           insert into event_type_profiles
               (type_id, as_of, events_7d, events_30d, events_90d, accounts_7d, accounts_30d,
                accounts_90d, users_7d, users_30d, users_90d)
           select a.type_id, $1, coalesce(e.e7, 0), coalesce(e.e30, 0), coalesce(e.e90, 0),
                  a.a7, a.a30, a.a90, coalesce(p.u7, 0), coalesce(p.u30, 0), coalesce(p.u90, 0)
           from accounts a left join events e using (type_id) left join people p using (type_id)"#,
    )
    .bind(day)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    tx.commit().await?;
    Ok(done)
}

/// What an ingestion batch adds to the catalogue's counts: each type's events per day, and
/// per account and per person the last day of the batch they used each type (type ids and
/// days as array literals, one row per account or person). Summed off the async runtime
/// with the batch's roll-up, from its user-days.
#[derive(Default)]
pub struct Seen {
    days: (Vec<i16>, Vec<Date>, Vec<i64>),
    accounts: Keyed<Uuid>,
    people: Keyed<(Uuid, String)>,
}

/// Per key (an account, a person), its types and their last days as array literals.
#[derive(Default)]
struct Keyed<K> {
    keys: Vec<K>,
    types: Vec<String>,
    days: Vec<String>,
}

impl<K> Keyed<K> {
    fn of<S>(seen: HashMap<S, Vec<(i16, Date)>>, own: impl Fn(S) -> K) -> Keyed<K> {
        let mut out = Keyed {
            keys: Vec::with_capacity(seen.len()),
            types: Vec::with_capacity(seen.len()),
            days: Vec::with_capacity(seen.len()),
        };
        for (key, seen) in seen {
            let (types, days) = last_days(seen);
            out.keys.push(own(key));
            out.types.push(types);
            out.days.push(days);
        }
        out
    }
}

/// Each type once, with its last day, as the two array literals `{1,4}` and `{2026-11-01,…}`.
fn last_days(mut seen: Vec<(i16, Date)>) -> (String, String) {
    seen.sort_unstable();
    seen.reverse();
    seen.dedup_by_key(|s| s.0);
    seen.reverse();
    let types = seen.iter().map(|s| s.0.to_string()).collect::<Vec<_>>();
    let days = seen.iter().map(|s| s.1.to_string()).collect::<Vec<_>>();
    (
        format!("{{{}}}", types.join(",")),
        format!("{{{}}}", days.join(",")),
    )
}

impl Seen {
    pub fn of(rows: &[UserDay]) -> Seen {
        let mut days: HashMap<(i16, Date), i64> = HashMap::new();
        let mut accounts: HashMap<Uuid, Vec<(i16, Date)>> = HashMap::new();
        let mut people: HashMap<(Uuid, &str), Vec<(i16, Date)>> = HashMap::new();
        for r in rows {
            for &(t, n) in &r.types {
                *days.entry((t, r.day)).or_default() += n;
                accounts.entry(r.account).or_default().push((t, r.day));
                people
                    .entry((r.account, &r.user_ref))
                    .or_default()
                    .push((t, r.day));
            }
        }
        let mut out = Seen::default();
        for ((t, day), n) in days {
            out.days.0.push(t);
            out.days.1.push(day);
            out.days.2.push(n);
        }
        out.accounts = Keyed::of(accounts, |a| a);
        out.people = Keyed::of(people, |(a, u)| (a, u.to_string()));
        out
    }

    /// Adds these to the catalogue's tables, in the batch's transaction.
    pub async fn count(&self, conn: &mut PgConnection) -> sqlx::Result<()> {
        sqlx::query(
            r#"insert into event_type_days as e (type_id, day, events)
               select * from unnest($1::int2[], $2::date[], $3::int8[])
               on conflict (type_id, day) do update set events = e.events + excluded.events"#,
        )
        .bind(&self.days.0)
        .bind(&self.days.1)
        .bind(&self.days.2)
        .execute(&mut *conn)
        .await?;
        sqlx::query(
            r#"insert into event_type_accounts as e (account_id, types, last_days)
               select a, t::int2[], d::date[] from unnest($1::uuid[], $2::text[], $3::text[]) x(a, t, d)
               order by a
               on conflict (account_id) do update set (types, last_days) =
                   (select * from last_days_merged(e.types, e.last_days, excluded.types, excluded.last_days))"#,
        )
        .bind(&self.accounts.keys)
        .bind(&self.accounts.types)
        .bind(&self.accounts.days)
        .execute(&mut *conn)
        .await?;
        sqlx::query(
            r#"insert into event_type_people as e (account_id, user_ref, types, last_days)
               select a, u, t::int2[], d::date[]
               from unnest($1::uuid[], $2::text[], $3::text[], $4::text[]) x(a, u, t, d)
               order by a, u
               on conflict (account_id, user_ref) do update set (types, last_days) =
                   (select * from last_days_merged(e.types, e.last_days, excluded.types, excluded.last_days))"#,
        )
        .bind(self.people.keys.iter().map(|k| k.0).collect::<Vec<_>>())
        .bind(self.people.keys.iter().map(|k| k.1.as_str()).collect::<Vec<_>>())
        .bind(&self.people.types)
        .bind(&self.people.days)
        .execute(&mut *conn)
        .await?;
        Ok(())
    }
}

/// The daily run's refresh: the figures for `day`, unless it is a back-fill of a day before
/// the newest day of data (the figures stay on the newest). Says what it did.
pub async fn refresh_for(pool: &PgPool, day: Date) -> sqlx::Result<String> {
    match newest_day(pool).await? {
        Some(newest) if day < newest => Ok(format!(
            "kept: {day} is a back-fill; the figures end on the newest day of data, {newest}"
        )),
        _ => Ok(format!(
            "{} event types profiled",
            refresh(pool, day).await?
        )),
    }
}

/// Every event type seen, with its figures as last computed, and the day they end on.
pub async fn profiles(db: impl PgExecutor<'_>) -> sqlx::Result<(Vec<Profile>, Option<Date>)> {
    let rows: Vec<Profile> = sqlx::query_as(
        r#"select e.id, e.name, e.first_seen, e.last_seen, p.as_of,
                  coalesce(p.events_7d, 0) as events_7d, coalesce(p.events_30d, 0) as events_30d,
                  coalesce(p.events_90d, 0) as events_90d,
                  coalesce(p.accounts_7d, 0) as accounts_7d, coalesce(p.accounts_30d, 0) as accounts_30d,
                  coalesce(p.accounts_90d, 0) as accounts_90d,
                  coalesce(p.users_7d, 0) as users_7d, coalesce(p.users_30d, 0) as users_30d,
                  coalesce(p.users_90d, 0) as users_90d
           from event_types e left join event_type_profiles p on p.type_id = e.id
           where e.first_seen is not null"#,
    )
    .fetch_all(db)
    .await?;
    let as_of = rows.iter().filter_map(|p| p.as_of).max();
    Ok((rows, as_of))
}

/// Sorts by one of `SORTS` (unknown keys sort by 30-day events).
pub fn sort(profiles: &mut [Profile], by: &str) {
    let key = |p: &Profile| match by {
        "accounts_30d" => p.accounts_30d,
        "accounts_90d" => p.accounts_90d,
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

/// The `n` event types used by the most accounts over the catalogue's 90 days, leaving out
/// those the mapping in force ignores: the pool that training screens for candidate
/// features. Computes the figures first if they never were.
pub async fn widespread(pool: &PgPool, n: usize) -> crate::error::Result<Vec<String>> {
    let (mut rows, as_of) = profiles(pool).await?;
    if as_of.is_none()
        && let Some(day) = newest_day(pool).await?
    {
        refresh(pool, day).await?;
        rows = profiles(pool).await?.0;
    }
    let mapping = super::current(pool).await?;
    sort(&mut rows, "accounts_90d");
    Ok(rows
        .into_iter()
        .filter(|p| p.accounts_90d > 0 && mapping.roles(&p.name).counted)
        .take(n)
        .map(|p| p.name)
        .collect())
}

#[cfg(test)]
mod tests {
    use time::macros::date;

    #[test]
    fn each_type_keeps_its_latest_day_in_type_order() {
        let seen = vec![
            (5, date!(2026 - 11 - 02)),
            (3, date!(2026 - 10 - 01)),
            (5, date!(2026 - 11 - 09)),
            (5, date!(2026 - 11 - 04)),
        ];
        assert_eq!(
            super::last_days(seen),
            ("{3,5}".to_string(), "{2026-10-01,2026-11-09}".to_string())
        );
    }
}

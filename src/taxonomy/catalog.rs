//! The catalogue of event types seen: for each, events, accounts and distinct people over
//! the 7, 30 and 90 days up to the newest day of data, and when it was first and last seen.
//! Each refresh (the daily run's, or one asked for) first counts the days ingestion touched
//! since the last, then reckons the figures from those counts and stores them.

use sqlx::{FromRow, PgConnection, PgExecutor, PgPool};
use time::Date;

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

/// The longest window, in days, ending on the day the figures end on.
const LONGEST_WINDOW: i64 = 90;

/// The newest day with usage: the catalogue's windows end there, not at today, so a
/// historical export reads as it was.
pub async fn newest_day(db: impl PgExecutor<'_>) -> sqlx::Result<Option<Date>> {
    Ok(crate::features::db::usage_span(db)
        .await?
        .map(|(_, last)| last))
}

/// Recomputes every event type's figures over the windows ending `day`, on or after the
/// newest day of data, from what the catalogue counts (`catch_up` first): each type's
/// events per day, and per account and per person the last day they used each type.
pub async fn refresh(pool: &PgPool, day: Date) -> sqlx::Result<u64> {
    let mut tx = pool.begin().await?;
    catch_up(pool, &mut tx).await?;
    sqlx::query("delete from event_type_profiles")
        .execute(&mut *tx)
        .await?;
    let done = sqlx::query(
        r#"with events as (
               select type_id, coalesce(sum(events) filter (where day > $1::date - 7), 0)::int8 as e7,
                      coalesce(sum(events) filter (where day > $1::date - 30), 0)::int8 as e30,
                      sum(events)::int8 as e90
               from event_type_days where day > $1::date - $2 and day <= $1 group by 1),
           accounts as (
               select x.t as type_id, count(*) filter (where x.d > $1::date - 7) as a7,
                      count(*) filter (where x.d > $1::date - 30) as a30, count(*) as a90
               from event_type_accounts a, unnest(a.types, a.last_days) x(t, d)
               where x.d > $1::date - $2 group by 1),
           people as (
               select x.t as type_id, count(*) filter (where x.d > $1::date - 7) as u7,
                      count(*) filter (where x.d > $1::date - 30) as u30, count(*) as u90
               from event_type_people p, unnest(p.types, p.last_days) x(t, d)
               where x.d > $1::date - $2 group by 1)
           insert into event_type_profiles
               (type_id, as_of, events_7d, events_30d, events_90d, accounts_7d, accounts_30d,
                accounts_90d, users_7d, users_30d, users_90d)
           select a.type_id, $1, coalesce(e.e7, 0), coalesce(e.e30, 0), coalesce(e.e90, 0),
                  a.a7, a.a30, a.a90, coalesce(p.u7, 0), coalesce(p.u30, 0), coalesce(p.u90, 0)
           from accounts a left join events e using (type_id) left join people p using (type_id)"#,
    )
    .bind(day)
    .bind(LONGEST_WINDOW as i32)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    tx.commit().await?;
    Ok(done)
}

/// Counts the days ingestion touched since the last count (`usage_days_touched`): their
/// events per type again, and the last days they show per account and per person, merged.
/// Counting a day twice changes nothing, so a batch landing meanwhile is safe.
///
/// Only the days that can fall in a window are counted: the windows end on or after the
/// newest day of data and reach back 90 days, and the newest day only moves on. After a bulk
/// load of years of history, that is the last 90 days, not all of them.
async fn catch_up(pool: &PgPool, conn: &mut PgConnection) -> sqlx::Result<()> {
    let mut days = crate::db::take_days(&mut *conn, "usage_days_touched").await?;
    sqlx::query("delete from event_type_days where day = any($1)")
        .bind(&days)
        .execute(&mut *conn)
        .await?;
    if let Some(newest) = newest_day(&mut *conn).await? {
        days.retain(|d| *d > newest - time::Duration::days(LONGEST_WINDOW));
    }
    let (Some(first), Some(last)) = (days.first(), days.last()) else {
        return Ok(());
    };
    // In both reads below, the range lets the day's BRIN index narrow the scan; the list
    // keeps to the days.
    sqlx::query(
        r#"insert into event_type_days (type_id, day, events)
           select x.t, d.day, sum(x.n) from usage_daily d, unnest(d.event_types, d.type_events) x(t, n)
           where d.day between $2 and $3 and d.day = any($1) group by 1, 2"#,
    )
    .bind(&days)
    .bind(first)
    .bind(last)
    .execute(&mut *conn)
    .await?;
    // The last days per account and per person, counted in slices of the accounts at once
    // (each its own statement, committed before the days taken are): after a bulk load the
    // people count unnests months of user-days, one core's work for seconds otherwise.
    // Counting a slice twice changes nothing, so a failure after some slices committed only
    // leaves the days to count again.
    let statements = [
        ("event_type_accounts", "usage_daily", "account_id"),
        (
            "event_type_people",
            "usage_user_daily",
            "account_id, user_ref",
        ),
    ]
    .map(|(table, source, keys)| {
        format!(
            r#"insert into {table} as e ({keys}, types, last_days)
               select {keys}, array_agg(t order by t), array_agg(d order by t)
               from (select {keys}, x.t, max(u.day) as d from {source} u, unnest(u.event_types) x(t)
                     where u.day between $2 and $3 and u.day = any($1)
                       and u.account_id >= $4 and ($5::uuid is null or u.account_id < $5)
                     group by {keys}, x.t) y
               group by {keys}
               on conflict ({keys}) do update set (types, last_days) =
                   (select * from last_days_merged(e.types, e.last_days, excluded.types, excluded.last_days))"#
        )
    });
    let counts = statements
        .iter()
        .map(|sql| crate::db::by_account_slices(pool, sql, &days));
    futures_util::future::try_join_all(counts).await?;
    Ok(())
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

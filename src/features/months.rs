//! Per person and calendar month, the days they were active and the days they commented
//! (`usage_user_months`, bit d − 1 for day d): the read model behind the windows of weeks that
//! champion watch, the per-user features and expansion ask of every person. A window reads
//! one row per person-month instead of one per person-day.
//!
//! Ingestion notes the days it writes (`note_days`, in the batch's transaction), and every
//! reader first ORs those days' user-days in (`catch_up`). Ingestion only adds events, so a
//! bit once set stays set; what takes usage away (a new event mapping, retention, erasure)
//! rewrites the months under `lock`, so no catch-up in flight writes back what it took.

use sqlx::{PgConnection, PgPool};
use time::Date;

/// Notes `days` as written, for the first catch-up after the batch commits. First thing in
/// a batch, so that a rewrite's `lock` waits for the batch instead of both waiting for each
/// other's rows.
pub async fn note_days(conn: &mut PgConnection, days: &[Date]) -> sqlx::Result<()> {
    sqlx::query("insert into usage_months_touched select unnest($1::date[])")
        .bind(days)
        .execute(conn)
        .await?;
    Ok(())
}

/// Brings the months up to date with the days written since the last catch-up: their active
/// and comment days ORed in, one statement per slice of the accounts at once. A reader
/// arriving meanwhile waits for it; the days stay noted until every slice is in, and ORing a
/// day twice changes nothing, so a failure leaves them to do again. After more than a
/// month of days (a bulk load), refreshes the table's planner statistics. Returns the days.
pub async fn catch_up(pool: &PgPool) -> sqlx::Result<usize> {
    let mut tx = pool.begin().await?;
    let days = crate::db::take_days(&mut tx, "usage_months_touched").await?;
    // In key order, so two catch-ups adding to the same months wait rather than deadlock.
    // Days as timestamps, not dates: date_trunc and date_part on a date go by way of the time
    // zone, a third of the statement's time.
    crate::db::by_account_slices(
        pool,
        r#"insert into usage_user_months as m (month, account_id, user_ref, active, commented)
               select date_trunc('month', day::timestamp)::date, account_id, user_ref,
                      bit_or(1 << (date_part('day', day::timestamp)::int - 1)),
                      bit_or(case when comments > 0 then 1 << (date_part('day', day::timestamp)::int - 1) else 0 end)
               from usage_user_daily
               where day between $2 and $3 and day = any($1) and events > 0
                 and account_id >= $4 and ($5::uuid is null or account_id < $5)
               group by 1, 2, 3 order by 1, 2, 3
               on conflict (month, account_id, user_ref) do update set
                   active = m.active | excluded.active, commented = m.commented | excluded.commented"#,
        &days,
    )
    .await?;
    tx.commit().await?;
    if days.len() > 31 {
        sqlx::query("analyze usage_user_months")
            .execute(pool)
            .await?;
    }
    Ok(days.len())
}

/// Holds catch-ups off until the caller's transaction ends (one in flight is waited for):
/// for rewriting the months.
pub async fn lock(conn: &mut PgConnection) -> sqlx::Result<()> {
    sqlx::query("lock table usage_months_touched in exclusive mode")
        .execute(conn)
        .await?;
    Ok(())
}

/// Forgets every month and notes every day with usage: after a new event mapping changes
/// which days count, the next catch-up builds the months afresh.
pub async fn rebuild_later(conn: &mut PgConnection) -> sqlx::Result<()> {
    lock(&mut *conn).await?;
    sqlx::query("delete from usage_user_months")
        .execute(&mut *conn)
        .await?;
    sqlx::query("insert into usage_months_touched select day from usage_days")
        .execute(conn)
        .await?;
    Ok(())
}

/// Forgets the days before `before`, as retention deletes their user-days.
pub async fn forget_before(conn: &mut PgConnection, before: Date) -> sqlx::Result<()> {
    lock(&mut *conn).await?;
    sqlx::query("delete from usage_user_months where month < date_trunc('month', $1::date)::date")
        .bind(before)
        .execute(&mut *conn)
        .await?;
    // The month `before` falls in keeps its days from `before` on.
    for sql in [
        "update usage_user_months
         set active = active & month_day_bits(month, $1, $1 + 31),
             commented = commented & month_day_bits(month, $1, $1 + 31)
         where month = date_trunc('month', $1::date)::date and month < $1",
        "delete from usage_user_months where month = date_trunc('month', $1::date)::date and active = 0",
    ] {
        sqlx::query(sql).bind(before).execute(&mut *conn).await?;
    }
    Ok(())
}

//! The per-person months of active and comment days (`usage_user_months`) against their
//! definition, the user-days themselves: for windows of every length the readers use, across
//! month ends, after batches merged into days already written, after retention, erasure and
//! a new event mapping.

use keel::auth::audit::Actor;
use keel::features::months;
use keel::ingest::{Entity, Status};
use sqlx::PgPool;
use time::{Date, Duration};
use uuid::Uuid;

use crate::helpers::TestApp;
use crate::ingest::{ACCOUNTS_CSV, csv};

const DAYS: i64 = 92;

/// The first day of usage: 100 days ago, so that every event is in the past.
fn first() -> Date {
    time::OffsetDateTime::now_utc().date() - Duration::days(100)
}

/// (account, user, active days, commented) per person with activity in [lo, hi].
type People = Vec<(Uuid, String, i64, bool)>;

/// What the user-days say of the window.
async fn from_days(pool: &PgPool, lo: Date, hi: Date) -> People {
    sqlx::query_as(
        "select account_id, user_ref, count(*), bool_or(comments > 0) from usage_user_daily
         where day between $1 and $2 and events > 0 group by 1, 2 order by 1, 2",
    )
    .bind(lo)
    .bind(hi)
    .fetch_all(pool)
    .await
    .unwrap()
}

/// What the months say of it, read the way champion watch and the features read them.
async fn from_months(pool: &PgPool, lo: Date, hi: Date) -> People {
    months::catch_up(pool).await.unwrap();
    sqlx::query_as(
        "select account_id, user_ref,
                sum(bit_count((active & month_day_bits(month, $1, $2))::bit(32)))::int8,
                bool_or(commented & month_day_bits(month, $1, $2) <> 0)
         from usage_user_months
         where month between date_trunc('month', $1::date)::date and $2
           and active & month_day_bits(month, $1, $2) <> 0
         group by 1, 2 order by 1, 2",
    )
    .bind(lo)
    .bind(hi)
    .fetch_all(pool)
    .await
    .unwrap()
}

/// Windows of 1, 14, 30, 44 and 120 days, ending every third day from before the first
/// day of usage to after the last.
async fn assert_windows_agree(pool: &PgPool, when: &str) {
    let mut people = 0;
    for end in (-3..DAYS + 3).step_by(3) {
        for length in [1, 14, 30, 44, 120] {
            let hi = first() + Duration::days(end);
            let lo = hi - Duration::days(length - 1);
            let days = from_days(pool, lo, hi).await;
            assert_eq!(from_months(pool, lo, hi).await, days, "{when}: {lo}..={hi}");
            people += days.len();
        }
    }
    assert!(people > 500, "{when}: the windows hold people ({people})");
}

/// Eight people over 92 days, each active on about two days in three, some days with
/// comments, some with only page views; as CSV rows, one event a row.
fn events() -> Vec<String> {
    let mut rows = vec![];
    let mut state = 7u64;
    for (account, user) in [("A-1", "u1"), ("A-1", "u2"), ("A-1", "u3"), ("A-2", "v1")]
        .into_iter()
        .chain([("A-1", "u4"), ("A-1", "u5"), ("A-2", "v2"), ("A-2", "v3")])
    {
        for d in 0..DAYS {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            let roll = (state >> 33) % 30;
            let day = first() + Duration::days(d);
            let kinds: &[&str] = match roll {
                0..=9 => &[],
                10..=12 => &["page_viewed"],
                13..=16 => &["task_created", "comment_added"],
                _ => &["task_created", "board_viewed"],
            };
            for (i, kind) in kinds.iter().enumerate() {
                rows.push(format!("{account},{user},{kind},{day}T{:02}:00:00Z", 9 + i));
            }
        }
    }
    rows
}

#[sqlx::test]
async fn the_months_answer_every_window_as_the_user_days_do(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    csv(&app, Entity::Accounts, ACCOUNTS_CSV).await;
    // Two batches over the same days: the second merges into days the first wrote.
    let rows = events();
    for half in [0, 1] {
        let body: String = rows.iter().skip(half).step_by(2).fold(
            String::from("account_id,user_id,event_type,timestamp\n"),
            |b, r| b + r + "\n",
        );
        let out = csv(&app, Entity::Events, &body).await;
        assert_eq!(out.status, Status::Accepted, "{:?}", out.errors);
    }
    assert_windows_agree(&app.db, "after two batches").await;

    // Page views stop counting: days with only those fall out of every window.
    let saved = keel::taxonomy::save(
        &app.db,
        &Actor::Cli,
        "page_viewed = ignored\ncomment_added = collaboration",
        "",
    )
    .await
    .unwrap();
    assert!(saved.is_ok(), "{saved:?}");
    assert_windows_agree(&app.db, "after a new mapping").await;

    // Retention keeps the user-days from the 31st on; the months forget the rest.
    let kept = first() + Duration::days(30);
    let now = time::OffsetDateTime::new_utc(kept + Duration::days(396), time::Time::MIDNIGHT);
    let pruned = keel::ingest::retention::prune(&app.db, now, Duration::days(396))
        .await
        .unwrap();
    assert!(pruned > 0);
    assert_windows_agree(&app.db, "after retention").await;
    let before: i64 = sqlx::query_scalar(
        "select count(*) from usage_user_months where month < date_trunc('month', $1::date)",
    )
    .bind(kept)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(before, 0, "no month before the retained days is kept");
}

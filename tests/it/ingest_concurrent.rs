//! Event batches ingested at the same time: both count, and the account-days they share
//! sum both.

use keel::ingest::{Entity, Payload, Status};
use sqlx::PgPool;

use crate::helpers::TestApp;
use crate::ingest::csv;
use crate::ingest_events::day_types;

#[sqlx::test]
async fn two_batches_racing_on_a_new_day_both_count(pool: PgPool) {
    // Neither batch has written 3 November when each decides it is new to the account, so
    // one of them finds the other's row there when it writes its own.
    let app = race(
        pool,
        "2026-11-01",
        [
            "account_id,user_id,event_type,timestamp,count\n\
A-1,u1,task_created,2026-11-03T09:00:00Z,2\n\
A-1,u2,board_viewed,2026-11-03T10:00:00Z,3\n",
            "account_id,user_id,event_type,timestamp,count\n\
A-1,u2,task_created,2026-11-03T11:00:00Z,1\n\
A-1,u3,comment_added,2026-11-03T12:00:00Z,1\n",
        ],
    )
    .await;
    assert_eq!(users_and_events(&app).await, (3, 7));
    let named = |pairs: &[(&str, i32)]| -> Vec<(String, i32)> {
        pairs.iter().map(|(n, c)| ((*n).to_owned(), *c)).collect()
    };
    assert_eq!(
        day_types(&app, "A-1", "2026-11-03").await,
        named(&[
            ("board_viewed", 3),
            ("comment_added", 1),
            ("task_created", 3)
        ])
    );
}

#[sqlx::test]
async fn two_batches_adding_people_to_a_day_with_usage_both_count(pool: PgPool) {
    // u9 was active on 3 November already; each batch adds someone else.
    let app = race(
        pool,
        "2026-11-03",
        [
            "account_id,user_id,event_type,timestamp,count\nA-1,u1,task_created,2026-11-03T09:00:00Z,2\n",
            "account_id,user_id,event_type,timestamp,count\nA-1,u3,board_viewed,2026-11-03T12:00:00Z,4\n",
        ],
    )
    .await;
    assert_eq!(users_and_events(&app).await, (3, 9));
}

/// Account A-1, with u9's three events on `earlier` (so no batch names a new type: a batch
/// naming one waits for any other naming it); then `batches` at the same time, both held
/// at a lock on `usage_daily` until both wait, on it or on each other.
async fn race(pool: PgPool, earlier: &str, batches: [&str; 2]) -> TestApp {
    let app = TestApp::spawn(pool).await;
    let accounts = "external_id,name,plan,seats,mrr,customer_since,status\n\
A-1,Acme,business,25,1250.00,2024-03-01,active\n";
    assert_eq!(
        csv(&app, Entity::Accounts, accounts).await.status,
        Status::Accepted
    );
    let types = ["task_created", "board_viewed", "comment_added"];
    let earlier: String = types.iter().fold(
        "account_id,user_id,event_type,timestamp\n".to_owned(),
        |csv, t| csv + &format!("A-1,u9,{t},{earlier}T08:00:00Z\n"),
    );
    assert_eq!(
        csv(&app, Entity::Events, &earlier).await.status,
        Status::Accepted
    );
    let mut gate = app.db.begin().await.unwrap();
    sqlx::query("lock table usage_daily in share mode")
        .execute(&mut *gate)
        .await
        .unwrap();
    let running: Vec<_> = batches.iter().map(|body| spawn_batch(&app, body)).collect();
    wait_for_both(&app).await;
    gate.rollback().await.unwrap();
    for batch in running {
        assert_eq!(batch.await.unwrap().status, Status::Accepted);
    }
    app
}

/// A-1's active users and events on 3 November.
async fn users_and_events(app: &TestApp) -> (i32, i32) {
    sqlx::query_as(
        "select active_users, events from usage_daily d join accounts a on a.id = d.account_id
         where a.external_id = 'A-1' and d.day = '2026-11-03'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap()
}

fn spawn_batch(app: &TestApp, body: &str) -> tokio::task::JoinHandle<keel::ingest::Outcome> {
    let db = app.db.clone();
    let body = body.as_bytes().to_vec();
    tokio::spawn(async move {
        let actor = keel::auth::audit::Actor::Cli;
        keel::ingest::ingest(
            &db,
            Entity::Events,
            Payload::Csv(body),
            None,
            "test",
            &actor,
        )
        .await
        .unwrap()
    })
}

/// Waits until two sessions wait on a lock (the gate, or each other).
async fn wait_for_both(app: &TestApp) {
    let mut waiting = 0;
    for _ in 0..200 {
        waiting = sqlx::query_scalar::<_, i64>(
            "select count(*) from pg_stat_activity
             where datname = current_database() and wait_event_type = 'Lock'",
        )
        .fetch_one(&app.db)
        .await
        .unwrap();
        if waiting >= 2 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    assert_eq!(
        waiting, 2,
        "both batches should be waiting on the gate or each other"
    );
}

//! Event batches ingested at the same time: both count, and the account-days they share
//! sum both.

use keel::ingest::{Entity, Payload, Status};
use sqlx::PgPool;

use crate::helpers::TestApp;
use crate::ingest::{csv, day_types};

#[sqlx::test]
async fn two_batches_racing_on_a_new_day_both_count(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let accounts = "external_id,name,plan,seats,mrr,customer_since,status\n\
A-1,Acme,business,25,1250.00,2024-03-01,active\n";
    assert_eq!(
        csv(&app, Entity::Accounts, accounts).await.status,
        Status::Accepted
    );
    // The types are known already: a batch naming a new type waits for any other naming it.
    let earlier = "account_id,user_id,event_type,timestamp\n\
A-1,u9,task_created,2026-11-01T09:00:00Z\n\
A-1,u9,board_viewed,2026-11-01T09:00:00Z\n\
A-1,u9,comment_added,2026-11-01T09:00:00Z\n";
    assert_eq!(
        csv(&app, Entity::Events, earlier).await.status,
        Status::Accepted
    );
    // Held until both batches wait: neither has written the account-day when each decides
    // it is new, so one of them finds the other's row there when it writes its own.
    let mut gate = app.db.begin().await.unwrap();
    sqlx::query("lock table usage_daily in share mode")
        .execute(&mut *gate)
        .await
        .unwrap();
    let batches = [
        "account_id,user_id,event_type,timestamp,count\n\
A-1,u1,task_created,2026-11-03T09:00:00Z,2\n\
A-1,u2,board_viewed,2026-11-03T10:00:00Z,3\n",
        "account_id,user_id,event_type,timestamp,count\n\
A-1,u2,task_created,2026-11-03T11:00:00Z,1\n\
A-1,u3,comment_added,2026-11-03T12:00:00Z,1\n",
    ];
    let running: Vec<_> = batches
        .iter()
        .map(|body| {
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
        })
        .collect();
    let mut waiting = 0;
    for _ in 0..200 {
        waiting = sqlx::query_scalar::<_, i64>("select count(*) from pg_locks where not granted")
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
    gate.rollback().await.unwrap();
    for batch in running {
        assert_eq!(batch.await.unwrap().status, Status::Accepted);
    }
    let (users, events): (i32, i32) = sqlx::query_as(
        "select active_users, events from usage_daily d join accounts a on a.id = d.account_id
         where a.external_id = 'A-1' and d.day = '2026-11-03'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!((users, events), (3, 7));
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

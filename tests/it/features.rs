use keel::auth::audit::Actor;
use keel::features::{FEATURES, FeatureTable, compute, snapshots};
use keel::ingest::{Entity, Payload, Status};
use sqlx::PgPool;
use time::macros::date;

async fn load(pool: &PgPool, entity: Entity, csv: &str) {
    let out = keel::ingest::ingest(
        pool,
        entity,
        Payload::Csv(csv.as_bytes().to_vec()),
        None,
        "test",
        &Actor::Cli,
    )
    .await
    .unwrap();
    assert_eq!(out.status, Status::Accepted, "{entity}: {:?}", out.errors);
}

fn same(a: &FeatureTable, b: &FeatureTable) -> bool {
    a.accounts == b.accounts
        && a.rows
            .iter()
            .zip(&b.rows)
            .all(|(x, y)| x.iter().zip(y).all(|(p, q)| p.to_bits() == q.to_bits()))
}

fn value(t: &FeatureTable, row: usize, name: &str) -> f64 {
    t.rows[row][FEATURES.iter().position(|f| *f == name).unwrap()]
}

#[sqlx::test]
async fn features_as_of_a_day_ignore_everything_after_it(pool: PgPool) {
    crate::helpers::migrate(&pool).await;
    load(
        &pool,
        Entity::Accounts,
        "external_id,name,plan,seats,mrr,customer_since\nA,Acme,team,4,400,2026-01-01\n",
    )
    .await;
    load(&pool, Entity::Subscriptions, "account_id,period_start,period_end,plan,seats,mrr\nA,2026-10-01,2026-11-01,team,4,500\nA,2026-11-01,2026-12-01,team,4,400\n").await;
    // Two users on 11-10 (one commenting), one on 11-04, one on 10-20 with an invite.
    load(
        &pool,
        Entity::Events,
        "account_id,user_id,event_type,timestamp,count\n\
A,u1,task_created,2026-11-10T09:00:00Z,4\n\
A,u2,comment_added,2026-11-10T10:00:00Z,2\n\
A,u1,board_viewed,2026-11-04T10:00:00Z,1\n\
A,u3,invite_sent,2026-10-20T10:00:00Z,1\n",
    )
    .await;
    load(&pool, Entity::Tickets, "account_id,external_id,priority,subject,opened_at,resolved_at,csat\nA,T1,urgent,Down,2026-11-01T09:00:00Z,2026-11-02T09:00:00Z,2\nA,T2,low,Q,2026-09-01T09:00:00Z,2026-09-02T09:00:00Z,4\n").await;
    load(&pool, Entity::Nps, "account_id,external_id,responded_at,score\nA,N1,2026-08-01T00:00:00Z,9\nA,N2,2026-11-05T00:00:00Z,6\n").await;

    let d = date!(2026 - 11 - 10);
    let before = compute(&pool, d, &[]).await.unwrap();
    assert_eq!(before.accounts.len(), 1);
    let expect = [
        ("avg_dau_7d", 3.0 / 7.0),
        ("avg_dau_30d", 4.0 / 30.0),
        ("action_trend_ratio", (6.0 / 7.0) / (6.0 / 30.0)),
        ("features_adopted", 2.0),
        ("seat_utilization", 3.0 / 4.0),
        ("invites_sent_30d", 1.0),
        ("users_commenting", 1.0),
        ("support_tickets_30d", 1.0),
        ("urgent_tickets_30d", 1.0),
        ("avg_csat", 3.0),
        ("days_since_last_login", 0.0),
        ("mrr", 400.0),
        ("downgraded_last_period", 1.0),
        ("nps_score", 6.0),
    ];
    for (name, want) in expect {
        let got = value(&before, 0, name);
        assert!((got - want).abs() < 1e-9, "{name}: got {got}, want {want}");
    }

    // Everything that happens after the day: more usage, a ticket, an NPS answer, an upgrade.
    load(&pool, Entity::Events, "account_id,user_id,event_type,timestamp,count\nA,u4,gantt_viewed,2026-11-11T09:00:00Z,9\nA,u1,task_completed,2026-11-20T09:00:00Z,3\n").await;
    load(&pool, Entity::Tickets, "account_id,external_id,priority,subject,opened_at,resolved_at,csat\nA,T3,high,Slow,2026-11-12T09:00:00Z,2026-11-13T09:00:00Z,1\n").await;
    load(
        &pool,
        Entity::Nps,
        "account_id,external_id,responded_at,score\nA,N3,2026-11-15T00:00:00Z,10\n",
    )
    .await;
    load(&pool, Entity::Subscriptions, "account_id,period_start,period_end,plan,seats,mrr\nA,2026-12-01,2027-01-01,business,8,900\n").await;
    let after = compute(&pool, d, &[]).await.unwrap();
    assert!(
        same(&before, &after),
        "features as of {d} changed when later data arrived:\n{before:?}\n{after:?}"
    );
    let later = compute(&pool, date!(2026 - 11 - 20), &[]).await.unwrap();
    assert!(
        !same(&before, &later),
        "features must move with the as-of date"
    );
}

#[sqlx::test]
async fn snapshots_keep_accounts_that_churned_later_and_label_them(pool: PgPool) {
    crate::helpers::migrate(&pool).await;
    load(
        &pool,
        Entity::Accounts,
        "external_id,name,plan,seats,mrr,customer_since,status,churned_on\n\
Stay,Stay Co,team,3,100,2025-01-01,active,\n\
Soon,Soon Co,team,3,100,2025-01-01,churned,2026-08-15\n\
Gone,Gone Co,team,3,100,2025-01-01,churned,2026-05-01\n",
    )
    .await;
    let taken = snapshots(
        &pool,
        &[date!(2026 - 07 - 01), date!(2026 - 11 - 01)],
        date!(2026 - 11 - 23),
        &[],
    )
    .await
    .unwrap();
    assert_eq!(taken.len(), 1, "the 11-01 snapshot's label has not matured");
    let (table, labels) = &taken[0];
    assert_eq!(
        table.accounts.len(),
        2,
        "the account gone before the date is not in it; the one that churned later is"
    );
    assert_eq!(
        labels.iter().filter(|l| **l).count(),
        1,
        "churned within 60 days of 07-01"
    );
}

//! Model alerts: raised and emailed once while open, acknowledged, muted and unmuted by an
//! analyst on the model-health page.

use keel::auth::Role;
use keel::model::alerts::{Alert, record};
use sqlx::PgPool;
use time::{Date, Duration, OffsetDateTime};

use crate::helpers::TestApp;

fn drift() -> Alert {
    Alert {
        kind: "drift",
        subject: "avg_csat".into(),
        message: "avg_csat drifted: PSI 0.31 (alert above 0.15)".into(),
        value: Some(0.31),
        threshold: Some(0.15),
    }
}

async fn counts(pool: &PgPool) -> (i64, i64) {
    sqlx::query_as(
        "select (select count(*) from model_alerts),
                (select count(*) from outbox where subject like 'Keel model alert%')",
    )
    .fetch_one(pool)
    .await
    .unwrap()
}

#[sqlx::test]
async fn an_alert_is_news_once_until_acknowledged_and_silent_while_muted(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    let (analyst, _) = app.login_as(Role::Analyst).await;
    let today: Date = OffsetDateTime::now_utc().date();
    let week = |n: i64| today - Duration::weeks(n);
    record(&pool, week(4), &drift()).await.unwrap();
    record(&pool, week(3), &drift()).await.unwrap();
    assert_eq!(
        counts(&pool).await,
        (1, 1),
        "the repeat updates the open alert"
    );
    let page = analyst.get("/models/health").await.text().await.unwrap();
    assert!(page.contains("2 run days"), "{page}");
    let id: i64 = sqlx::query_scalar("select id from model_alerts")
        .fetch_one(&pool)
        .await
        .unwrap();

    let ack = analyst
        .hx_post(&format!("/models/alerts/{id}/acknowledge"), &[])
        .await;
    assert_eq!(ack.status(), 200);
    let html = ack.text().await.unwrap();
    assert!(html.contains("Acknowledged.") && html.contains("acknowledged by"));
    record(&pool, week(2), &drift()).await.unwrap();
    assert_eq!(
        counts(&pool).await,
        (2, 2),
        "after acknowledgement it is news again"
    );

    let newest: i64 = sqlx::query_scalar("select max(id) from model_alerts")
        .fetch_one(&pool)
        .await
        .unwrap();
    let mute = format!("/models/alerts/{newest}/mute");
    assert_eq!(analyst.hx_post(&mute, &[("days", "0")]).await.status(), 400);
    let muted = analyst.hx_post(&mute, &[("days", "30")]).await;
    assert_eq!(muted.status(), 200);
    let until = today + Duration::days(30);
    assert!(
        muted
            .text()
            .await
            .unwrap()
            .contains(&format!("Muted until {until}"))
    );
    record(&pool, week(1), &drift()).await.unwrap();
    assert_eq!(counts(&pool).await, (2, 2), "nothing while muted");

    let unmute = format!("/models/alerts/{newest}/unmute");
    assert_eq!(analyst.hx_post(&unmute, &[]).await.status(), 200);
    record(&pool, today, &drift()).await.unwrap();
    assert_eq!(counts(&pool).await, (3, 3), "heard again once unmuted");
    for action in [
        "model_alert.acknowledge",
        "model_alert.mute",
        "model_alert.unmute",
    ] {
        assert_eq!(app.audit_count(action).await, 1, "{action}");
    }
    let (csm, _) = app.login_as(Role::Csm).await;
    assert_eq!(
        csm.hx_post(&format!("/models/alerts/{id}/acknowledge"), &[])
            .await
            .status(),
        403
    );
}

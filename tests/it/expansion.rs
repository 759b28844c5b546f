//! Expansion propensity on a hand-computed fixture, and the hand-off from CS to sales.

use keel::auth::audit::Actor;
use keel::expansion::propensity::{Tier, Weights};
use keel::ingest::{Entity, Payload, Status};
use time::macros::date;
use time::{Date, Duration};
use uuid::Uuid;

use crate::helpers::TestApp;
use crate::worklist::id_of;

async fn load(app: &TestApp, entity: Entity, csv: String) {
    let out = keel::ingest::ingest(
        &app.db,
        entity,
        Payload::Csv(csv.into_bytes()),
        None,
        "test",
        &Actor::Cli,
    )
    .await
    .unwrap();
    assert_eq!(out.status, Status::Accepted, "{entity}: {:?}", out.errors);
}

const D: Date = date!(2026 - 06 - 30);

fn d(days: i64) -> Date {
    D + Duration::days(days)
}

/// Three SMB accounts whose signals on D are worked out by hand below.
async fn three_accounts(app: &TestApp) {
    load(
        app,
        Entity::Accounts,
        "external_id,name,plan,seats,mrr,customer_since,renewal_date\n\
         P1,Papa One,team,12,500,2025-01-01,2027-01-01\n\
         P2,Papa Two,team,5,400,2025-01-01,2027-01-01\n\
         P3,Papa Three,team,8,300,2025-01-01,2027-01-01\n"
            .into(),
    )
    .await;
    load(
        app,
        Entity::Subscriptions,
        format!(
            "account_id,period_start,period_end,plan,seats,mrr\n\
             P1,{},{},team,10,500\nP1,{},{},team,12,500\n\
             P2,{},{},team,5,400\nP3,{},{},team,8,300\n",
            d(-200),
            d(-60),
            d(-60),
            d(30),
            d(-200),
            d(30),
            d(-200),
            d(30)
        ),
    )
    .await;
    load(
        app,
        Entity::Events,
        format!(
            "account_id,user_id,event_type,timestamp,count\n\
             P1,u1,board_viewed,{a} 10:00:00,3\nP1,u1,gantt_viewed,{a} 11:00:00,1\n\
             P1,u2,board_viewed,{b} 10:00:00,2\nP1,u1,task_created,{old} 10:00:00,1\n\
             P2,v1,report_generated,{b} 09:00:00,1\nP2,v1,api_call,{b} 09:30:00,4\nP2,v1,dashboard_viewed,{a} 09:00:00,1\n",
            a = d(-1),
            b = d(-20),
            old = d(-100)
        ),
    )
    .await;
    load(
        app,
        Entity::Nps,
        format!(
            "account_id,external_id,responded_at,score,user_id,comment\n\
             P1,n1,{} 10:00:00,9,u1,\nP1,n2,{} 10:00:00,7,u1,\n\
             P3,n3,{} 10:00:00,6,,\nP3,n4,{} 10:00:00,8,,\n",
            d(-10),
            d(-120),
            d(-30),
            d(-150)
        ),
    )
    .await;
    load(
        app,
        Entity::Tickets,
        format!(
            "account_id,external_id,priority,subject,opened_at,resolved_at,csat,feature_request\n\
             P1,t1,low,Gantt export,{} 10:00:00,,,true\nP1,t2,low,API limits,{} 10:00:00,,,true\n\
             P1,t3,low,Old ask,{} 10:00:00,,,true\nP1,t4,high,Bug,{} 10:00:00,,,false\n\
             P3,t5,low,Forms,{} 10:00:00,,,true\n",
            d(-5),
            d(-80),
            d(-95),
            d(-3),
            d(-40)
        ),
    )
    .await;
}

#[sqlx::test]
async fn propensity_matches_a_hand_computed_fixture(pool: sqlx::PgPool) {
    let app = TestApp::spawn(pool).await;
    three_accounts(&app).await;
    keel::features::months::catch_up(&app.db).await.unwrap();
    let mut conn = app.db.acquire().await.unwrap();
    let scored = keel::expansion::score(&mut conn, D, &Weights::RUBRIC)
        .await
        .unwrap();
    let at = |ext: &str, id: Uuid| {
        let i = scored
            .rows
            .iter()
            .position(|r| r.account == id)
            .unwrap_or_else(|| panic!("{ext} scored"));
        (
            &scored.rows[i].raw,
            scored.normalised[i],
            scored.propensity[i],
        )
    };
    let (p1, p2, p3) = (
        id_of(&app, "P1").await,
        id_of(&app, "P2").await,
        id_of(&app, "P3").await,
    );
    // P1: boards and Gantt of 10 areas; u1 used both, u2 one; 12 seats now against 10 a
    // quarter ago; NPS 9 against 7; two feature requests in 90 days (the third is older).
    let (raw, norm, score) = at("P1", p1);
    assert!((raw.depth - 0.2).abs() < 1e-9);
    assert!((raw.co_usage - 0.5).abs() < 1e-9);
    assert!((raw.seat_growth - 0.2).abs() < 1e-9);
    assert!((raw.nps_trend - 2.0).abs() < 1e-9);
    assert!((raw.feature_requests - 2.0).abs() < 1e-9);
    // Ranks within SMB (three accounts: 0, ½, 1; ties share). Co-usage beyond depth: the
    // residuals of co-usage on depth are −0.107 (P1), +0.071 (P2), +0.036 (P3).
    assert_eq!(norm, [0.5, 0.0, 1.0, 1.0, 1.0]);
    // 100 × (0.4 × 0.5 + 0.3 × 0 + 0.15 + 0.1 + 0.05) = 50.
    assert!((score - 50.0).abs() < 1e-9);
    let (raw, norm, score) = at("P2", p2);
    assert!((raw.depth - 0.3).abs() < 1e-9 && (raw.co_usage - 1.0).abs() < 1e-9);
    assert_eq!(raw.seat_growth, 0.0);
    assert_eq!(norm, [1.0, 1.0, 0.25, 0.5, 0.0]);
    // 100 × (0.4 + 0.3 + 0.15 × 0.25 + 0.1 × 0.5) = 78.75: medium.
    assert!((score - 78.75).abs() < 1e-9);
    let (raw, norm, score) = at("P3", p3);
    assert!((raw.nps_trend + 2.0).abs() < 1e-9 && (raw.feature_requests - 1.0).abs() < 1e-9);
    assert_eq!(norm, [0.0, 0.5, 0.25, 0.0, 0.5]);
    assert!((score - 21.25).abs() < 1e-9);

    // Stored with tier, probability of close and projected ARR: P2 is medium, so
    // $4,800 ARR × 0.35 × 0.35 = $588.
    keel::expansion::refresh(&mut conn, (D, D), time::OffsetDateTime::now_utc(), None)
        .await
        .unwrap();
    let (tier, poc, projected): (Tier, f32, i64) = sqlx::query_as(
        "select tier, poc, projected_arr_cents from expansion_scores where account_id = $1 and day = $2",
    )
    .bind(p2)
    .bind(D)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(tier, Tier::Medium);
    assert!((poc - 0.35).abs() < 1e-6);
    assert_eq!(projected, 58_800);
}

/// Seat growth counts the people of a quarter ago from the months of their active days:
/// six people then and three now, with no seats billed, is a halving.
#[sqlx::test]
async fn seat_growth_counts_the_people_of_a_quarter_ago(pool: sqlx::PgPool) {
    let app = TestApp::spawn(pool).await;
    load(
        &app,
        Entity::Accounts,
        "external_id,name,plan,seats,mrr,customer_since,renewal_date\n\
         Q1,Quebec,team,2,200,2025-01-01,2027-01-01\n"
            .into(),
    )
    .await;
    let mut events = String::from("account_id,user_id,event_type,timestamp\n");
    for u in 1..=6 {
        events += &format!("Q1,u{u},board_viewed,{} 10:00:00\n", d(-100 - u));
    }
    for u in 1..=3 {
        events += &format!("Q1,u{u},board_viewed,{} 10:00:00\n", d(-2));
    }
    load(&app, Entity::Events, events).await;
    keel::features::months::catch_up(&app.db).await.unwrap();
    let mut conn = app.db.acquire().await.unwrap();
    let scored = keel::expansion::score(&mut conn, D, &Weights::RUBRIC)
        .await
        .unwrap();
    assert_eq!(scored.rows.len(), 1);
    assert!(
        (scored.rows[0].raw.seat_growth + 0.5).abs() < 1e-9,
        "{}",
        scored.rows[0].raw.seat_growth
    );
}

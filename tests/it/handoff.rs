//! The hand-off from CS to sales, driven over HTTP: the guard on accounts at risk, the
//! steps sales takes, the acceptance SLA's escalation, who may do what, and the export.

use keel::auth::Role;
use keel::clock::Clock;
use keel::ingest::Entity;
use reqwest::StatusCode;
use uuid::Uuid;

use crate::helpers::{Client, TestApp, TestUser};
use crate::worklist::id_of;

pub struct Desk {
    pub app: TestApp,
    pub csm: Client,
    pub csm_user: TestUser,
    pub manager_user: TestUser,
    pub sales: Client,
    pub sales_user: TestUser,
}

/// A CSM (with a manager) owning H1 (ready to expand) and H2 (ready, but at churn risk);
/// another CSM owning H3; one sales rep.
pub async fn desk(pool: sqlx::PgPool) -> Desk {
    let app = TestApp::spawn(pool).await;
    let (csm, csm_user) = app.login_as(Role::Csm).await;
    let manager_user = app.create_user(Role::Manager).await;
    let other = app.create_user(Role::Csm).await;
    let (sales, sales_user) = app.login_as(Role::Sales).await;
    sqlx::query("update users set manager_id = $1 where id = $2")
        .bind(manager_user.id)
        .bind(csm_user.id)
        .execute(&app.db)
        .await
        .unwrap();
    let csv = format!(
        "external_id,name,plan,seats,mrr,customer_since,renewal_date,owner_email\n\
         H1,Hotel One,team,10,1000,2024-01-01,2027-06-01,{me}\n\
         H2,Hotel Two,team,10,2000,2024-01-01,2027-06-01,{me}\n\
         H3,Hotel Three,team,10,3000,2024-01-01,2027-06-01,{them}\n",
        me = csm_user.email,
        them = other.email
    );
    app.load_csv(Entity::Accounts, csv).await;
    let today = app.clock.now().date();
    let run = app.test_run(today).await;
    let signals = serde_json::json!({
        "depth": {"raw": 0.8, "normalised": 0.95, "areas": 10}, "co_usage": {"raw": 0.6, "normalised": 0.7},
        "seat_growth": {"raw": 0.25, "normalised": 0.9}, "nps_trend": {"raw": 1.5, "normalised": 0.8},
        "feature_requests": {"raw": 2.0, "normalised": 0.9}
    });
    for (ext, at_risk) in [("H1", false), ("H2", true), ("H3", false)] {
        let id = id_of(&app, ext).await;
        sqlx::query(
            "insert into scores (account_id, day, health_score, band, signals, churn_probability, risk_tier, at_risk, run_id)
             values ($1, $2, 50, 'yellow', '[]', 0.3, 'medium', $3, $4)",
        )
        .bind(id)
        .bind(today)
        .bind(at_risk)
        .bind(run)
        .execute(&app.db)
        .await
        .unwrap();
        sqlx::query(
            "insert into expansion_scores (account_id, day, propensity, tier, signals, poc, projected_arr_cents, config_id)
             values ($1, $2, 86.5, 'high', $3, 0.6, 360000, (select min(id) from expansion_configs))",
        )
        .bind(id)
        .bind(today)
        .bind(&signals)
        .execute(&app.db)
        .await
        .unwrap();
    }
    Desk {
        app,
        csm,
        csm_user,
        manager_user,
        sales,
        sales_user,
    }
}

pub const HAND_OFF: [(&str, &str); 3] = [
    ("kind", "seats"),
    ("estimated_arr", "6,000"),
    (
        "note",
        "Two new teams onboarding; the sponsor asked for a quote.",
    ),
];

pub async fn opportunity_of(app: &TestApp, ext: &str) -> (i64, String, Uuid) {
    sqlx::query_as(
        "select id, status::text, sales_owner_id from opportunities where account_id = $1",
    )
    .bind(id_of(app, ext).await)
    .fetch_one(&app.db)
    .await
    .unwrap()
}

#[sqlx::test]
async fn a_csm_hands_over_and_sales_works_it_to_won(pool: sqlx::PgPool) {
    let d = desk(pool).await;
    let h1 = id_of(&d.app, "H1").await;
    // The CSM finds expansion candidates in their book.
    let book = d
        .csm
        .get("/worklist?expansion=high")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        book.contains("Hotel One") && book.contains("ready to hand to sales"),
        "{book}"
    );
    assert_eq!(
        d.csm.get("/worklist?expansion=soon").await.status(),
        StatusCode::BAD_REQUEST
    );
    let card = d.csm.hx_get(&format!("/accounts/{h1}/expansion")).await;
    assert_eq!(card.status(), StatusCode::OK);
    let html = card.text().await.unwrap();
    assert!(html.contains("Uses 8 of 10 feature areas"), "{html}");
    assert!(html.contains("Hand to sales"));

    let resp = d
        .csm
        .hx_post(&format!("/accounts/{h1}/opportunities"), &HAND_OFF)
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let html = resp.text().await.unwrap();
    assert!(
        html.contains("Awaiting acceptance") && !html.contains("Hand to sales"),
        "{html}"
    );
    let (id, status, owner) = opportunity_of(&d.app, "H1").await;
    assert_eq!((status.as_str(), owner), ("handed", d.sales_user.id));
    // A second hand-off of the same account while one is open is refused.
    let again = d
        .csm
        .hx_post(&format!("/accounts/{h1}/opportunities"), &HAND_OFF)
        .await;
    assert_eq!(again.status(), StatusCode::CONFLICT);

    let home = d.sales.get("/opportunities").await.text().await.unwrap();
    assert!(
        home.contains("Hotel One") && home.contains("class=\"countdown ok\""),
        "{home}"
    );
    assert!(home.contains("Uses 8 of 10 feature areas (top 5 % of its segment)"));
    let step = |s: &'static str, form: Vec<(&'static str, &'static str)>| {
        let sales = &d.sales;
        async move {
            sales
                .hx_post(&format!("/opportunities/{id}/{s}"), &form)
                .await
        }
    };
    // Out of order: no contact before acceptance.
    assert_eq!(step("contact", vec![]).await.status(), StatusCode::CONFLICT);
    let accepted = step("accept", vec![]).await;
    assert_eq!(accepted.status(), StatusCode::OK);
    assert!(
        accepted
            .text()
            .await
            .unwrap()
            .contains("First contact made")
    );
    assert_eq!(step("contact", vec![]).await.status(), StatusCode::OK);
    // Won needs the closed ARR.
    assert_eq!(
        step("win", vec![("closed_arr", "")]).await.status(),
        StatusCode::BAD_REQUEST
    );
    let won = step("win", vec![("closed_arr", "7200")])
        .await
        .text()
        .await
        .unwrap();
    assert!(
        won.contains("Won") && won.contains("closed at $7,200"),
        "{won}"
    );

    let steps: Vec<String> = sqlx::query_scalar(
        "select step::text from opportunity_events where opportunity_id = $1 order by id",
    )
    .bind(id)
    .fetch_all(&d.app.db)
    .await
    .unwrap();
    assert_eq!(steps, ["handed", "accepted", "contacted", "won"]);
    for action in [
        "opportunity.hand_off",
        "opportunity.accepted",
        "opportunity.contacted",
        "opportunity.won",
    ] {
        assert_eq!(d.app.audit_count(action).await, 1, "{action}");
    }
    // The account's timeline tells the story.
    let timeline = d
        .csm
        .hx_get(&format!("/accounts/{h1}/timeline?kind=opportunity"))
        .await
        .text()
        .await
        .unwrap();
    assert!(timeline.contains("Expansion opportunity won"), "{timeline}");
}

#[sqlx::test]
async fn rejecting_needs_a_reason_and_at_risk_accounts_need_context(pool: sqlx::PgPool) {
    let d = desk(pool).await;
    let h2 = id_of(&d.app, "H2").await;
    let card = d
        .csm
        .hx_get(&format!("/accounts/{h2}/expansion"))
        .await
        .text()
        .await
        .unwrap();
    assert!(card.contains("Context note (required)"));
    let refused = d
        .csm
        .hx_post(&format!("/accounts/{h2}/opportunities"), &HAND_OFF)
        .await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    assert!(
        refused
            .text()
            .await
            .unwrap()
            .contains("expansion readiness after resolution")
    );
    let mut form = HAND_OFF.to_vec();
    form.push((
        "context_note",
        "Open SSO escalation; expand once it is closed.",
    ));
    assert_eq!(
        d.csm
            .hx_post(&format!("/accounts/{h2}/opportunities"), &form)
            .await
            .status(),
        StatusCode::OK
    );
    let home = d.sales.get("/opportunities").await.text().await.unwrap();
    assert!(
        home.contains("Expansion readiness after resolution:</strong> Open SSO escalation"),
        "{home}"
    );

    let (id, _, _) = opportunity_of(&d.app, "H2").await;
    let no_reason = d
        .sales
        .hx_post(&format!("/opportunities/{id}/reject"), &[("note", "later")])
        .await;
    assert_eq!(no_reason.status(), StatusCode::BAD_REQUEST);
    let wrong_kind = d
        .sales
        .hx_post(
            &format!("/opportunities/{id}/reject"),
            &[("reason", "lost_budget")],
        )
        .await;
    assert_eq!(wrong_kind.status(), StatusCode::BAD_REQUEST);
    assert_eq!(opportunity_of(&d.app, "H2").await.1, "handed");
    let rejected = d
        .sales
        .hx_post(
            &format!("/opportunities/{id}/reject"),
            &[("reason", "resolve_risk_first")],
        )
        .await;
    assert_eq!(rejected.status(), StatusCode::OK);
    assert!(
        rejected
            .text()
            .await
            .unwrap()
            .contains("Churn risk must be resolved first")
    );
}

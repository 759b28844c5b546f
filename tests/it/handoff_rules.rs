//! The hand-off's rules over HTTP (desk in handoff.rs): who may act, the acceptance SLA's
//! escalation, the export's schema, and the round robin among sales reps.

use keel::auth::Role;
use keel::clock::Clock;
use reqwest::StatusCode;
use time::{Duration, OffsetDateTime};

use crate::handoff::{HAND_OFF, desk, opportunity_of};
use crate::worklist::id_of;

#[sqlx::test]
async fn nobody_acts_outside_their_lane(pool: sqlx::PgPool) {
    let d = desk(pool).await;
    // A CSM cannot hand over (or even see) another CSM's account.
    let h3 = id_of(&d.app, "H3").await;
    let resp = d
        .csm
        .hx_post(&format!("/accounts/{h3}/opportunities"), &HAND_OFF)
        .await;
    assert_eq!(resp.status(), StatusCode::NOT_FOUND);
    // Sales cannot open the CSM's pages or hand over.
    for path in ["/worklist", "/accounts", &format!("/accounts/{h3}")] {
        assert_eq!(
            d.sales.get(path).await.status(),
            StatusCode::FORBIDDEN,
            "{path}"
        );
    }
    let h1 = id_of(&d.app, "H1").await;
    assert_eq!(
        d.sales
            .hx_post(&format!("/accounts/{h1}/opportunities"), &HAND_OFF)
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    // Another sales rep cannot work this rep's opportunity; a CSM cannot accept it.
    d.csm
        .hx_post(&format!("/accounts/{h1}/opportunities"), &HAND_OFF)
        .await;
    let (id, _, _) = opportunity_of(&d.app, "H1").await;
    let (rival, _) = d.app.login_as(Role::Sales).await;
    assert_eq!(
        rival
            .hx_post(&format!("/opportunities/{id}/accept"), &[])
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        d.csm
            .hx_post(&format!("/opportunities/{id}/accept"), &[])
            .await
            .status(),
        StatusCode::FORBIDDEN
    );
    assert!(
        !rival
            .get("/opportunities")
            .await
            .text()
            .await
            .unwrap()
            .contains("Hotel One")
    );
    // The CSM's manager reads it; executives read it; analysts do not have the page.
    let manager = d.app.client();
    manager
        .login(&d.manager_user.email, crate::helpers::PASSWORD)
        .await;
    assert!(
        manager
            .get("/opportunities")
            .await
            .text()
            .await
            .unwrap()
            .contains("Hotel One")
    );
    let (exec, _) = d.app.login_as(Role::Executive).await;
    let page = exec.get("/opportunities").await.text().await.unwrap();
    assert!(page.contains("Hotel One") && !page.contains("/opportunities/1/accept"));
    let (analyst, _) = d.app.login_as(Role::Analyst).await;
    assert_eq!(
        analyst.get("/opportunities").await.status(),
        StatusCode::FORBIDDEN
    );
}

#[sqlx::test]
async fn a_missed_acceptance_sla_escalates_to_the_manager_once(pool: sqlx::PgPool) {
    let d = desk(pool).await;
    let h1 = id_of(&d.app, "H1").await;
    d.csm
        .hx_post(&format!("/accounts/{h1}/opportunities"), &HAND_OFF)
        .await;
    let handed = d.app.clock.now();
    let sweep = |at: OffsetDateTime| keel::opportunities::escalate::sweep(&d.app.db, at);
    assert_eq!(sweep(handed + Duration::hours(47)).await.unwrap(), 0);
    assert_eq!(sweep(handed + Duration::hours(49)).await.unwrap(), 1);
    assert_eq!(sweep(handed + Duration::hours(50)).await.unwrap(), 0);
    let emails: Vec<(String, String)> = sqlx::query_as("select recipient, subject from outbox")
        .fetch_all(&d.app.db)
        .await
        .unwrap();
    assert_eq!(
        emails,
        [(
            d.manager_user.email.clone(),
            "Hand-off not accepted in 48 hours: Hotel One".to_owned()
        )]
    );
    d.app.clock.advance(Duration::hours(49));
    let home = d.sales.get("/opportunities").await.text().await.unwrap();
    assert!(
        home.contains("overdue by 1 h 0 min") && home.contains("manager notified"),
        "{home}"
    );
    let _ = &d.csm_user;
}

#[sqlx::test]
async fn the_export_follows_the_sources_schema(pool: sqlx::PgPool) {
    let d = desk(pool).await;
    let h1 = id_of(&d.app, "H1").await;
    d.csm
        .hx_post(&format!("/accounts/{h1}/opportunities"), &HAND_OFF)
        .await;
    let csv = d
        .sales
        .get("/opportunities/export.csv")
        .await
        .text()
        .await
        .unwrap();
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("account_id,score,projected_arr,poc,signals_json,created_date,status")
    );
    let row = lines.next().unwrap();
    // $6,000 estimated × 0.6 (high tier) = $3,600 projected.
    assert!(row.starts_with("H1,86.5,3600.00,0.60,"), "{row}");
    assert!(row.ends_with("SAO candidate"), "{row}");
    // The JSON for a CRM needs a token with the opportunities scope.
    let (admin, _) = d.app.login_as(Role::Admin).await;
    let token = admin.api_token(&["opportunities"]).await;
    let json: serde_json::Value = reqwest::Client::new()
        .get(d.app.url("/api/v1/opportunities"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(json["opportunities"][0]["account_id"], "H1");
    let wrong = admin.api_token(&["scores"]).await;
    let resp = reqwest::Client::new()
        .get(d.app.url("/api/v1/opportunities"))
        .bearer_auth(&wrong)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
}

#[sqlx::test]
async fn hand_offs_round_robin_among_sales_reps(pool: sqlx::PgPool) {
    let d = desk(pool).await;
    let second = d.app.create_user(Role::Sales).await;
    for ext in ["H1", "H2"] {
        let id = id_of(&d.app, ext).await;
        let mut form = HAND_OFF.to_vec();
        form.push(("context_note", "Resolve the open escalation first."));
        assert_eq!(
            d.csm
                .hx_post(&format!("/accounts/{id}/opportunities"), &form)
                .await
                .status(),
            StatusCode::OK
        );
    }
    let owners = [
        opportunity_of(&d.app, "H1").await.2,
        opportunity_of(&d.app, "H2").await.2,
    ];
    let mut expected = [d.sales_user.id, second.id];
    expected.sort();
    let mut got = owners;
    got.sort();
    assert_eq!(got, expected);
}

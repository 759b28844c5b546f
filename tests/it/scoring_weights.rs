//! The admin's scoring weights over HTTP: back-tested on the demo company with history
//! (scoring.rs), then saved as a version.

use keel::auth::Role;
use sqlx::PgPool;
use time::Duration;

use crate::helpers::{TestApp, location};
use crate::scoring::company_with_history;

#[sqlx::test]
async fn the_admin_backtests_new_weights_and_saves_them_as_a_version(pool: PgPool) {
    let as_of = company_with_history(&pool).await;
    let app = TestApp::spawn(pool.clone()).await;
    let (admin, _) = app.login_as(Role::Admin).await;
    let page = admin.get("/admin/scoring").await;
    assert_eq!(page.status(), 200);
    let page = page.text().await.unwrap();
    assert!(
        page.contains("name=\"w_seat_utilization\" value=\"12\""),
        "current weights pre-filled"
    );

    let mut form: Vec<(String, String)> = keel::health::score::DEFAULT_SIGNALS
        .iter()
        .map(|s| (format!("w_{}", s.feature), s.weight.to_string()))
        .collect();
    for (k, v) in [
        ("red_max", "30"),
        ("yellow_max", "70"),
        ("high", "0.8"),
        ("medium", "0.5"),
        ("at_risk", "0.3"),
        ("note", "support matters more"),
    ] {
        form.push((k.to_owned(), v.to_owned()));
    }
    let set = |form: &mut Vec<(String, String)>, key: &str, value: &str| {
        form.iter_mut().find(|(k, _)| k == key).unwrap().1 = value.to_owned();
    };

    // Weights that do not add up are refused, naming the problem.
    let mut bad = form.clone();
    set(&mut bad, "w_seat_utilization", "2");
    let refused = admin
        .hx_post("/admin/scoring/backtest", &borrowed(&bad))
        .await;
    assert_eq!(refused.status(), 422);
    assert!(refused.text().await.unwrap().contains("add up to 90.00 %"));

    // Move weight from behaviour to support and back-test it.
    let mut proposal = form.clone();
    set(&mut proposal, "w_seat_utilization", "2");
    set(&mut proposal, "w_urgent_tickets_30d", "20");
    let fields = borrowed(&proposal);
    let tested = admin.hx_post("/admin/scoring/backtest", &fields).await;
    assert_eq!(tested.status(), 200);
    let html = tested.text().await.unwrap();
    assert!(
        html.contains("AUC of the health score as a churn predictor"),
        "{html}"
    );
    assert!(html.contains("account snapshots from"));
    assert_eq!(
        html.matches("churned within 60 days").count(),
        3,
        "one row per band"
    );
    let aucs: Vec<&str> = html
        .split("churn predictor</th><td>")
        .nth(1)
        .unwrap()
        .split("</td>")
        .take(3)
        .collect();
    assert!(
        aucs[0].starts_with("0.") && aucs[1].trim_start_matches("<td>").starts_with("0."),
        "{aucs:?}"
    );
    assert_eq!(
        app.audit_count("scoring.configure").await,
        0,
        "a back-test saves nothing"
    );

    // Calibrating on history fills in cut-offs taken from the outcomes: the proposed red
    // band churns more than the green one.
    let mut calibrate = fields.clone();
    calibrate.push(("calibrate", "1"));
    let html = admin
        .hx_post("/admin/scoring/backtest", &calibrate)
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("id=\"calibrated\""), "{html}");
    let value_of = |id: &str| -> f64 {
        html.split(&format!("id=\"{id}\" value=\""))
            .nth(1)
            .and_then(|rest| rest.split('"').next())
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("{id} not filled in: {html}"))
    };
    assert!(value_of("red_max") < value_of("yellow_max"));
    let rate = |band: &str| -> f64 {
        let row = html.split(&format!("badge {band}\">")).nth(1).unwrap();
        // The proposed column is the row's last "(x %)".
        let cell = row
            .split("</tr>")
            .next()
            .unwrap()
            .rsplit('(')
            .next()
            .unwrap();
        cell.split(' ').next().unwrap().parse().unwrap()
    };
    assert!(rate("red") > rate("green"), "{html}");

    let saved = admin.post_form("/admin/scoring", &fields).await;
    assert_eq!(saved.status(), 303);
    assert!(location(&saved).starts_with("/admin/scoring?notice="));
    assert_eq!(app.audit_count("scoring.configure").await, 1);
    let page = admin.get("/admin/scoring").await.text().await.unwrap();
    assert!(
        page.contains("support matters more"),
        "the version list shows the change"
    );
    assert!(page.contains("name=\"w_urgent_tickets_30d\" value=\"20\""));

    // The next run scores with the new version and its at-risk threshold.
    let outcome = keel::pipeline::run(
        &pool,
        as_of,
        "test",
        &keel::auth::audit::Actor::Cli,
        &keel::pipeline::Options {
            max_event_age: Duration::hours(40),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert!(outcome.succeeded);
    let (config, wrong_flags): (i64, i64) = sqlx::query_as(
        "select max(health_config_id), count(*) filter (where at_risk <> (churn_probability >= 0.3))
         from scores where day = $1",
    )
    .bind(as_of)
    .fetch_one(&pool)
    .await
    .unwrap();
    let newest: i64 = sqlx::query_scalar("select max(id) from health_configs")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!((config, wrong_flags), (newest, 0));
}

fn borrowed(form: &[(String, String)]) -> Vec<(&str, &str)> {
    form.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

//! An experiment's results against hand-computed definitions, and the decision.

use keel::auth::Role;
use reqwest::StatusCode;
use time::{Date, Duration};
use uuid::Uuid;

use crate::experiments::{Lab, lab, playbook, started};

/// Marks the given accounts churned 30 days after `assigned`.
async fn churn(lab: &Lab, accounts: &[Uuid], on: Date) {
    sqlx::query("update accounts set status = 'churned', churned_on = $2 where id = any($1)")
        .bind(accounts)
        .bind(on)
        .execute(&lab.app.db)
        .await
        .unwrap();
}

#[sqlx::test]
async fn results_follow_the_definitions_and_the_decision_is_recorded(pool: sqlx::PgPool) {
    let lab = lab(pool, 150).await;
    let treatment = playbook(&lab, "Treatment call").await;
    let two = [
        ("Control", "50", String::new()),
        ("Call", "50", treatment.to_string()),
    ];
    let id = started(&lab, "Calls", "{}", &two).await;
    // Assigned 100 days ago in a window that ended 95 days ago: every account has matured,
    // so this is the final look. Treatment: 56 of 70 retained; control: 48 of 80.
    let assigned_on = lab.today - Duration::days(100);
    sqlx::query("update experiments set start_date = $2, end_date = $3 where id = $1")
        .bind(id)
        .bind(assigned_on)
        .bind(lab.today - Duration::days(95))
        .execute(&lab.app.db)
        .await
        .unwrap();
    let accounts: Vec<Uuid> = sqlx::query_scalar("select id from accounts order by external_id")
        .fetch_all(&lab.app.db)
        .await
        .unwrap();
    let variants: Vec<i64> = sqlx::query_scalar(
        "select id from experiment_variants where experiment_id = $1 order by position",
    )
    .bind(id)
    .fetch_all(&lab.app.db)
    .await
    .unwrap();
    for (i, a) in accounts.iter().enumerate() {
        sqlx::query(
            "insert into experiment_assignments (experiment_id, account_id, variant_id, stratum, slot, assigned_on)
             values ($1, $2, $3, 'all', $4, $5)",
        )
        .bind(id)
        .bind(a)
        .bind(variants[usize::from(i >= 80)])
        .bind(i as i32)
        .bind(assigned_on)
        .execute(&lab.app.db)
        .await
        .unwrap();
    }
    let lost: Vec<Uuid> = accounts[..32]
        .iter()
        .chain(&accounts[80..94])
        .copied()
        .collect();
    churn(&lab, &lost, assigned_on + Duration::days(30)).await;
    let (executive, _) = lab.app.login_as(Role::Executive).await;
    let html = executive
        .get(&format!("/experiments/{id}"))
        .await
        .text()
        .await
        .unwrap();
    // 56/70 − 48/80 = +20 points; Newcombe (1998), Table II, first example: method 10 gives
    // 0.0524 to 0.3339.
    assert!(html.contains("+20.0 pts"), "{html}");
    assert!(html.contains("+5.2 to +33.4 pts"), "{html}");
    // Wilson 95 % for 56/70 by the formula: (0.8 + z²/140 ± z√(0.16/70 + z²/19600)) /
    // (1 + z²/70) = 0.6918 to 0.8770; for 48/80: 0.4905 to 0.7004.
    assert!(
        html.contains("69.2–87.7 %") && html.contains("49.0–70.0 %"),
        "{html}"
    );
    // N−1 χ²: 150 × (56·32 − 14·48)² / (70·80·104·46) × 149/150 = 6.977, p = 0.008.
    assert!(html.contains("χ² = 6.98, p = 0.008"), "{html}");
    assert!(
        html.contains("Final analysis: &#39;Call&#39; raises retention by 20.0 points")
            || html.contains("Final analysis: 'Call' raises retention by 20.0 points"),
        "{html}"
    );
    assert!(html.contains("Log-rank across variants"));
    // Executives read; they do not decide.
    let resp = executive
        .post_form(&format!("/experiments/{id}/conclude"), &[("decision", "x")])
        .await;
    assert_eq!(resp.status(), StatusCode::FORBIDDEN);
    // Before the conclusion the dashboard has no measured evidence (and keeps that page).
    let before = executive.get("/dashboard").await.text().await.unwrap();
    assert!(before.contains("No experiment has measured a churn reduction yet"));
    let resp = lab
        .analyst
        .post_form(
            &format!("/experiments/{id}/conclude"),
            &[
                ("decision", "Roll out the call"),
                ("winner", &variants[1].to_string()),
                ("make_default", "1"),
            ],
        )
        .await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let (enabled, rule): (bool, serde_json::Value) =
        sqlx::query_as("select enabled, rule from playbooks where id = $1")
            .bind(treatment)
            .fetch_one(&lab.app.db)
            .await
            .unwrap();
    assert!(enabled, "the winner's playbook becomes a default");
    assert_eq!(rule, serde_json::json!({}));
    assert_eq!(lab.app.audit_count("experiment.conclude").await, 1);
    // The dashboard's ROI takes its churn reductions from the winner's measured gain: likely
    // +20 points, best and worst Newcombe's ends (33.39 and 5.24, to the half point).
    let dashboard = executive.get("/dashboard").await.text().await.unwrap();
    assert!(
        dashboard.contains("Churn reductions from &#39;Calls&#39;"),
        "{dashboard}"
    );
    for (field, value) in [("r0", "33.5"), ("r1", "20"), ("r2", "5")] {
        assert!(
            dashboard.contains(&format!(
                "name=\"{field}\" min=\"0\" max=\"100\" step=\"0.5\" value=\"{value}\""
            )),
            "{field} = {value}"
        );
    }
    let again = lab
        .analyst
        .post_form(
            &format!("/experiments/{id}/conclude"),
            &[("decision", "again")],
        )
        .await;
    assert_eq!(again.status(), StatusCode::CONFLICT);
}

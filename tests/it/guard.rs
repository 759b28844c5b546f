//! A product whose data says nothing about churn: every account uses it the same way every
//! day, yet a fifth of them leave. Training must not break on features without variance,
//! must name them, and must not put a model that cannot beat the naive baseline into
//! production.

use keel::auth::Role;
use keel::ingest::Entity;
use time::macros::date;
use time::{Date, Duration};

use crate::helpers::TestApp;

const ACCOUNTS: usize = 80;

#[sqlx::test]
async fn a_model_that_cannot_beat_the_naive_baseline_is_not_promoted(pool: sqlx::PgPool) {
    let app = TestApp::spawn(pool).await;
    let start = date!(2026 - 01 - 01);
    let end = date!(2026 - 10 - 31);
    let churn = |i: usize| -> Option<Date> {
        i.is_multiple_of(5)
            .then(|| date!(2026 - 03 - 01) + Duration::days((i * 7 % 200) as i64))
    };
    let mut accounts =
        String::from("external_id,name,plan,seats,mrr,customer_since,status,churned_on\n");
    let mut events = String::from("account_id,user_id,event_type,timestamp\n");
    for i in 0..ACCOUNTS {
        let (status, churned) = match churn(i) {
            Some(d) => ("churned", d.to_string()),
            None => ("active", String::new()),
        };
        accounts.push_str(&format!(
            "A{i},Co {i},pro,3,100,{start},{status},{churned}\n"
        ));
        let last = churn(i).map_or(end, |d| d - Duration::days(1));
        let mut day = start;
        while day <= last {
            events.push_str(&format!("A{i},u1,task_created,{day}T10:00:00Z\n"));
            day += Duration::days(1);
        }
    }
    app.load_csv(Entity::Accounts, accounts).await;
    app.load_csv(Entity::Events, events).await;

    let trained = keel::model::training::train(&app.db, end, &keel::auth::audit::Actor::Cli)
        .await
        .expect("features without variance do not break the fit");
    assert_eq!(trained.promoted, None);
    assert!(!trained.had_production);
    for (_, algorithm, report, objections) in &trained.versions {
        let auc = report.auc_roc.unwrap();
        assert!(auc < 0.55, "{algorithm:?} ranks by chance: {auc}");
        assert!(
            objections.iter().any(|o| o.contains("is below 0.55")),
            "{algorithm:?}: {objections:?}"
        );
    }
    assert!(trained.outcome().starts_with("nothing promoted"));
    let unused: Vec<(&str, &str)> = trained
        .unused
        .iter()
        .map(|(f, w)| (f.as_str(), *w))
        .collect();
    assert!(unused.iter().any(|u| u.0 == "avg_dau_30d"), "{unused:?}");
    assert!(unused.contains(&("nps_score", "missing everywhere")));
    assert!(unused.contains(&("mrr", "no variance")));

    let (client, _) = app.login_as(Role::Analyst).await;
    let html = client.get("/models").await.text().await.unwrap();
    assert_eq!(html.matches("not fit for production").count(), 2, "{html}");
    assert!(
        !html.contains("badge green\">production"),
        "nothing in production"
    );
}

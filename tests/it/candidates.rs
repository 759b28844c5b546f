//! A product whose churn shows in one odd event only: every account uses it alike every
//! day, but accounts about to leave start "unfriending". The fixed features cannot see it
//! (the guard test shows them at chance on such data); the screened event-type candidates
//! must, and must say so on the Models page and in the risk drivers.

use keel::auth::Role;
use keel::auth::audit::Actor;
use keel::ingest::Entity;
use time::macros::date;
use time::{Date, Duration};

use crate::helpers::TestApp;

const ACCOUNTS: usize = 200;

#[sqlx::test]
async fn churn_that_shows_in_one_odd_event_is_caught_by_a_candidate(pool: sqlx::PgPool) {
    let app = TestApp::spawn(pool).await;
    let start = date!(2026 - 01 - 01);
    let end = date!(2026 - 10 - 31);
    let churn = |i: usize| -> Option<Date> {
        i.is_multiple_of(3)
            .then(|| date!(2026 - 03 - 01) + Duration::days((i * 7 % 200) as i64))
    };
    let mut accounts =
        String::from("external_id,name,plan,seats,mrr,customer_since,status,churned_on\n");
    let mut events = String::from("account_id,user_id,event_type,timestamp\n");
    // "Z" is still a customer but has begun unfriending in the last fortnight.
    let ids = (0..ACCOUNTS)
        .map(|i| format!("A{i}"))
        .chain(["Z".to_owned()]);
    for (i, id) in ids.enumerate() {
        let churned = churn(i).filter(|_| id != "Z");
        let (status, on) =
            churned.map_or(("active", String::new()), |d| ("churned", d.to_string()));
        accounts.push_str(&format!("{id},Co {id},pro,3,100,{start},{status},{on}\n"));
        let last = churned.map_or(end, |d| d - Duration::days(1));
        let unfriending_from = match (churned, id.as_str()) {
            (Some(d), _) => d - Duration::days(45),
            (None, "Z") => end - Duration::days(14),
            _ => end + Duration::days(1),
        };
        let mut day = start;
        while day <= last {
            events.push_str(&format!("{id},u1,task_created,{day}T10:00:00Z\n"));
            if (day - start).whole_days() % 3 == (i / 3 % 3) as i64 {
                events.push_str(&format!("{id},u1,page_view,{day}T11:00:00Z\n"));
            }
            if day >= unfriending_from {
                for h in 12..15 {
                    events.push_str(&format!("{id},u1,unfriend,{day}T{h}:00:00Z\n"));
                }
            }
            day += Duration::days(1);
        }
    }
    app.load_csv(Entity::Accounts, accounts).await;
    app.load_csv(Entity::Events, events).await;

    let trained = keel::model::training::train(&app.db, end, &Actor::Cli)
        .await
        .unwrap();
    let kept: Vec<&str> = trained
        .screened
        .iter()
        .filter(|s| s.verdict == keel::model::screen::Verdict::Kept)
        .map(|s| s.feature.as_str())
        .collect();
    assert!(
        kept.iter().all(|f| f.ends_with(":unfriend")) && !kept.is_empty(),
        "{:?}",
        trained.screened
    );
    let unfriend = trained
        .screened
        .iter()
        .find(|s| s.feature == "events_30d:unfriend")
        .unwrap();
    assert!(unfriend.rho.unwrap() > 0.3, "{unfriend:?}");
    for (_, algorithm, report, objections) in &trained.versions {
        let auc = report.auc_roc.unwrap();
        // Fixed features alone rank such data by chance (0.5; see the guard test). Unfriending
        // begins 45 of the label's 60 days ahead, so about 0.87 is the ceiling.
        assert!(
            auc > 0.7,
            "{algorithm:?} sees the churn through unfriend: {auc}"
        );
        // Not always calibrated on so few rows (the regression's Platt fit here is not),
        // but one version must pass the guard.
        let _ = objections;
    }
    let best = trained
        .versions
        .iter()
        .filter_map(|v| v.2.auc_roc)
        .fold(0.0, f64::max);
    assert!(best > 0.8, "{best}");
    assert!(
        trained.promoted.is_some(),
        "{:?}",
        trained.versions.iter().map(|v| &v.3).collect::<Vec<_>>()
    );

    // The daily run computes the production model's candidates and explains with them.
    let outcome = keel::pipeline::run(
        &app.db,
        end,
        "test",
        &Actor::Cli,
        &keel::pipeline::Options {
            max_event_age: Duration::days(400),
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert!(outcome.succeeded, "{:?}", outcome.stages);
    let (probability, drivers): (f32, String) = sqlx::query_as(
        "select s.churn_probability, s.drivers::text from scores s
         join accounts a on a.id = s.account_id where a.external_id = 'Z' and s.day = $1",
    )
    .bind(end)
    .fetch_one(&app.db)
    .await
    .unwrap();
    let quiet: f32 = sqlx::query_scalar(
        "select max(s.churn_probability) from scores s
         join accounts a on a.id = s.account_id where a.external_id <> 'Z' and s.day = $1",
    )
    .bind(end)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert!(
        probability > quiet,
        "Z {probability} against the others' highest {quiet}"
    );
    assert!(drivers.contains("unfriend events"), "{drivers}");

    let (client, _) = app.login_as(Role::Analyst).await;
    let html = client.get("/models").await.text().await.unwrap();
    let section = &html[html.find("id=\"candidates\"").unwrap()..];
    assert!(
        section.contains("<td>Unfriend events (30 days)</td>"),
        "{section}"
    );
    assert!(section.contains("badge green\">kept"), "{section}");
}

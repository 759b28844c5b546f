//! The pipeline's outputs through the API and the page: scoring one account now, re-scoring on
//! fresh data, exports, and the usage index.

use keel::auth::audit::Actor;
use keel::ingest::Entity;
use keel::pipeline::{self, Options};
use sqlx::PgPool;
use time::{Duration, OffsetDateTime};

use crate::pipeline::{company, load};

#[sqlx::test]
async fn one_account_is_scored_now_through_the_api(pool: PgPool) {
    use keel::model::train::{Algorithm, Dataset, Model};
    company(&pool).await;
    let app = crate::helpers::TestApp::spawn(pool).await;
    let (admin, _) = app.login_as(keel::auth::Role::Admin).await;
    let secret = admin.api_token(&["score"]).await;
    let score = |body: serde_json::Value| {
        reqwest::Client::new()
            .post(app.url("/api/v1/churn-score"))
            .bearer_auth(&secret)
            .json(&body)
            .send()
    };
    let none = score(serde_json::json!({"account_id": "A"})).await.unwrap();
    assert_eq!(
        none.status(),
        reqwest::StatusCode::CONFLICT,
        "no model in production yet"
    );

    // A small model on synthetic snapshots: low usage → churn.
    let mut data = Dataset::default();
    for i in 0..400 {
        let mut row = vec![0.0; keel::features::FEATURES.len()];
        row[0] = (i % 20) as f64 / 4.0;
        data.x.push(row);
        data.y.push(i % 20 < 3);
        data.dates
            .push(time::macros::date!(2026 - 01 - 01) + Duration::days(30 * (i % 5)));
    }
    let model = Model::fit(Algorithm::LogisticRegression, &data).unwrap();
    let id = keel::model::registry::insert(
        &app.db,
        &keel::model::registry::NewModel {
            algorithm: "logistic_regression",
            train_from: data.dates[0],
            train_to: data.dates[4],
            rows: 400,
            metrics: serde_json::json!({}),
            importance: serde_json::json!({}),
            artefact: serde_json::to_value(&model).unwrap(),
            reference: &serde_json::Value::Null,
            created_by: "test",
        },
    )
    .await
    .unwrap();
    keel::model::registry::promote(&app.db, id).await.unwrap();

    let ok = score(serde_json::json!({"account_id": "B"})).await.unwrap();
    assert_eq!(ok.status(), reqwest::StatusCode::OK);
    let body: serde_json::Value = ok.json().await.unwrap();
    let p = body["churn_probability"].as_f64().unwrap();
    assert!((0.0..=1.0).contains(&p));
    assert!(["low", "medium", "high"].contains(&body["risk_tier"].as_str().unwrap()));
    assert_eq!(body["model_version"], id.to_string());
    assert_eq!(body["source"], "computed", "nothing is scored today yet");

    let score_b = || async {
        score(serde_json::json!({"account_id": "B"}))
            .await
            .unwrap()
            .json::<serde_json::Value>()
            .await
            .unwrap()
    };
    // Once today's run has scored the account, the answer is that stored score…
    let today = OffsetDateTime::now_utc().date();
    let run = pipeline::run(&app.db, today, "test", &Actor::Cli, &Options::default())
        .await
        .unwrap();
    assert!(run.succeeded, "{:?}", run.stages);
    let stored: f32 = sqlx::query_scalar(
        "select s.churn_probability from scores s join accounts a on a.id = s.account_id
         where a.external_id = 'B' and s.day = $1",
    )
    .bind(today)
    .fetch_one(&app.db)
    .await
    .unwrap();
    let body = score_b().await;
    assert_eq!(body["source"], "stored", "{body}");
    assert!((body["churn_probability"].as_f64().unwrap() - f64::from(stored)).abs() < 1e-6);
    assert!(body["drivers"].is_array());
    // …until new data for it waits to be re-scored: then it is scored on the spot.
    sqlx::query(
        "insert into rescore_queue (account_id) select id from accounts where external_id = 'B'",
    )
    .execute(&app.db)
    .await
    .unwrap();
    let body = score_b().await;
    assert_eq!(body["source"], "computed", "{body}");
    let unknown = score(serde_json::json!({"account_id": "nope"}))
        .await
        .unwrap();
    assert_eq!(unknown.status(), reqwest::StatusCode::BAD_REQUEST);
    assert!(
        unknown
            .text()
            .await
            .unwrap()
            .contains("unknown account 'nope'")
    );
}

#[sqlx::test]
async fn fresh_data_rescores_the_accounts_it_touches_without_waiting_for_the_run(pool: PgPool) {
    company(&pool).await;
    let today = OffsetDateTime::now_utc().date();
    let run = pipeline::run(&pool, today, "test", &Actor::Cli, &Options::default())
        .await
        .unwrap();
    assert!(run.succeeded);
    let queued: i64 = sqlx::query_scalar("select count(*) from rescore_queue")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(queued, 0, "the run covers what was queued before it");
    let models = keel::model::registry::Cache::default();
    let before: serde_json::Value =
        sqlx::query_scalar("select signals from scores s join accounts a on a.id = s.account_id where a.external_id = 'B'")
            .fetch_one(&pool)
            .await
            .unwrap();

    // Account B, quiet for 20 days, is active again now.
    let now = (OffsetDateTime::now_utc() - Duration::minutes(5))
        .replace_nanosecond(0)
        .unwrap()
        .format(&time::format_description::well_known::Rfc3339)
        .unwrap();
    load(
        &pool,
        Entity::Events,
        format!("account_id,user_id,event_type,timestamp,count\nB,u9,task_created,{now},4\nB,u8,board_viewed,{now},2\n"),
    )
    .await;
    let queued: Vec<String> = sqlx::query_scalar(
        "select a.external_id from rescore_queue q join accounts a on a.id = q.account_id",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(queued, ["B"]);
    let rescored = pipeline::rescore::tick(&pool, &models, OffsetDateTime::now_utc())
        .await
        .unwrap();
    assert_eq!(rescored, 1);
    let (after, rescored_at, day): (serde_json::Value, Option<OffsetDateTime>, time::Date) = sqlx::query_as(
        "select signals, rescored_at, day from scores s join accounts a on a.id = s.account_id where a.external_id = 'B'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(
        rescored_at.is_some() && day == today,
        "the day's score is replaced, marked as re-scored"
    );
    let last_login = |signals: &serde_json::Value| {
        signals
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["name"] == "days_since_last_login")
            .unwrap()["value"]
            .as_f64()
            .unwrap()
    };
    assert_eq!(last_login(&before), 20.0);
    assert_eq!(last_login(&after), 0.0);
    assert_eq!(
        pipeline::rescore::tick(&pool, &models, OffsetDateTime::now_utc())
            .await
            .unwrap(),
        0,
        "each queued account is re-scored once"
    );
}

#[sqlx::test]
async fn scores_export_as_csv_and_as_paged_json(pool: PgPool) {
    company(&pool).await;
    let app = crate::helpers::TestApp::spawn(pool.clone()).await;
    let (analyst, _) = app.login_as(keel::auth::Role::Analyst).await;
    let none = analyst.get("/scores/export.csv").await;
    assert_eq!(
        none.status(),
        reqwest::StatusCode::CONFLICT,
        "no scores yet"
    );
    // A name a spreadsheet would run as a formula.
    sqlx::query("update accounts set name = '=HYPERLINK(\"http://evil.example\",\"x\")' where external_id = 'C'")
        .execute(&pool)
        .await
        .unwrap();
    let today = OffsetDateTime::now_utc().date();
    pipeline::run(&pool, today, "test", &Actor::Cli, &Options::default())
        .await
        .unwrap();

    let resp = analyst.get("/scores/export.csv").await;
    assert_eq!(resp.status(), 200);
    assert!(
        resp.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/csv")
    );
    assert!(
        resp.headers()["content-disposition"]
            .to_str()
            .unwrap()
            .contains(&today.to_string())
    );
    let body = resp.text().await.unwrap();
    let lines: Vec<&str> = body.lines().collect();
    assert!(lines[0].starts_with("account_id,name,segment,day,health_score,band"));
    assert_eq!(lines.len(), 4, "a header and the three accounts: {body}");
    assert!(lines[1].starts_with("A,Acme,"), "{}", lines[1]);
    assert!(
        lines[3].starts_with("C,\"'=HYPERLINK("),
        "formula defused: {}",
        lines[3]
    );
    let bad = analyst.get("/scores/export.csv?day=yesterday").await;
    assert_eq!(bad.status(), 400);
    assert!(bad.text().await.unwrap().contains("is not a date"));
    let (csm, _) = app.login_as(keel::auth::Role::Csm).await;
    assert_eq!(csm.get("/scores/export.csv").await.status(), 403);

    let (admin, _) = app.login_as(keel::auth::Role::Admin).await;
    let token = admin.api_token(&["scores"]).await;
    let http = reqwest::Client::new();
    let page = |query: String| {
        let req = http
            .get(app.url(&format!("/api/v1/scores?{query}")))
            .bearer_auth(&token);
        async move {
            let resp = req.send().await.unwrap();
            (
                resp.status(),
                resp.json::<serde_json::Value>().await.unwrap(),
            )
        }
    };
    let (status, first) = page("limit=2".into()).await;
    assert_eq!(status, 200);
    assert_eq!(first["day"], today.to_string());
    let ids: Vec<&str> = first["scores"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["account_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["A", "B"]);
    assert_eq!(first["next_after"], "B");
    let (_, second) = page("limit=2&after=B".into()).await;
    assert_eq!(second["scores"].as_array().unwrap().len(), 1);
    assert!(second["next_after"].is_null(), "the last page says so");
    assert!(second["scores"][0]["health_score"].is_number());
    let (status, err) = page("limit=0".into()).await;
    assert_eq!(status, 400);
    assert!(err.to_string().contains("limit"), "{err}");
    let other = admin.api_token(&["events"]).await;
    let refused = http
        .get(app.url("/api/v1/scores"))
        .bearer_auth(&other)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
    // The scheme is case-insensitive (RFC 7235).
    let lower = http
        .get(app.url("/api/v1/scores?limit=1"))
        .header("authorization", format!("bearer {token}"))
        .send()
        .await
        .unwrap();
    assert_eq!(lower.status(), 200);
    let status = || async {
        http.get(app.url("/api/v1/scores?limit=1"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap()
            .status()
    };
    // An expired token stops working…
    sqlx::query(
        "update api_tokens set expires_at = now() - interval '1 second' where scopes = '{scores}'",
    )
    .execute(&pool)
    .await
    .unwrap();
    assert_eq!(status().await, 401);
    // …and so does a live one whose creator is deactivated.
    sqlx::query("update api_tokens set expires_at = now() + interval '1 day'")
        .execute(&pool)
        .await
        .unwrap();
    assert_eq!(status().await, 200);
    sqlx::query("update users set active = false where role = 'admin'")
        .execute(&pool)
        .await
        .unwrap();
    assert_eq!(status().await, 401);
}

#[sqlx::test]
async fn a_run_first_indexes_the_usage_days_it_reads_by_day(pool: PgPool) {
    // 40,000 user-days, as a bulk load leaves them: whole block ranges of the day index that
    // no one has summarised, which every day-window read would scan.
    sqlx::query(
        "insert into usage_user_daily (account_id, day, user_ref, events, core_actions, comments, invites, categories)
         select gen_random_uuid(), date '2026-01-01' + i / 200, 'u' || i, 1, 0, 0, 0, 0
         from generate_series(1, 40000) i",
    )
    .execute(&pool)
    .await
    .unwrap();
    let today = OffsetDateTime::now_utc().date();
    let run = pipeline::run(&pool, today, "test", &Actor::Cli, &Options::default())
        .await
        .unwrap();
    assert!(
        run.stages[0]
            .detail
            .contains("new ranges of usage days indexed first"),
        "{:?}",
        run.stages
    );
    let left: i32 =
        sqlx::query_scalar("select brin_summarize_new_values('usage_user_daily_day_brin')")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(left, 0, "every filled range was summarised by the run");
}

use keel::auth::audit::Actor;
use keel::ingest::{Entity, Payload, Status};
use keel::pipeline::{self, Options};
use sqlx::PgPool;
use time::{Duration, OffsetDateTime};

pub async fn load(pool: &PgPool, entity: Entity, csv: String) {
    let out = keel::ingest::ingest(
        pool,
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

/// Three accounts with a little usage, the newest event an hour old.
pub(crate) async fn company(pool: &PgPool) {
    crate::helpers::migrate(pool).await;
    load(pool, Entity::Accounts, "external_id,name,plan,seats,mrr,customer_since\nA,Acme,team,4,400,2025-01-01\nB,Beta,team,9,900,2025-03-01\nC,Core,team,2,90,2025-06-01\n".into()).await;
    // The newest event is today's, fresh (at most an hour old) and never in the future: an
    // hour ago, or midnight in the day's first hour, so "d days ago" is always d dates back.
    let now = OffsetDateTime::now_utc();
    let newest = (now - Duration::hours(1))
        .max(now.date().midnight().assume_utc())
        .replace_nanosecond(0)
        .unwrap();
    let ts = |d: i64| {
        (newest - Duration::days(d))
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap()
    };
    let events = format!(
        "account_id,user_id,event_type,timestamp,count\nA,u1,task_created,{},5\nA,u2,board_viewed,{},2\nB,u9,page_viewed,{},1\nC,u7,comment_added,{},3\n",
        ts(0),
        ts(3),
        ts(20),
        ts(1)
    );
    load(pool, Entity::Events, events).await;
}

async fn scores_on(pool: &PgPool, day: time::Date) -> (i64, Vec<i64>) {
    let n: i64 = sqlx::query_scalar("select count(*) from scores where day = $1")
        .bind(day)
        .fetch_one(pool)
        .await
        .unwrap();
    let runs: Vec<i64> = sqlx::query_scalar("select distinct run_id from scores where day = $1")
        .bind(day)
        .fetch_all(pool)
        .await
        .unwrap();
    (n, runs)
}

#[sqlx::test]
async fn a_run_scores_every_live_account_and_a_rerun_replaces_the_day(pool: PgPool) {
    company(&pool).await;
    let today = OffsetDateTime::now_utc().date();
    let first = pipeline::run(&pool, today, "test", &Actor::Cli, &Options::default())
        .await
        .unwrap();
    assert!(first.succeeded, "{:?}", first.stages);
    let names: Vec<&str> = first.stages.iter().map(|s| s.name).collect();
    assert_eq!(
        names,
        [
            "extract features",
            "freshness",
            "completeness",
            "volume",
            "score",
            "flag at-risk",
            "experiments",
            "open plays",
            "expansion propensity",
            "revenue facts",
            "event catalogue",
            "monitor"
        ]
    );
    assert_eq!(
        first.stages[4].status, "warning",
        "no model in production yet: health only"
    );
    // The three read models computed side by side each did their work.
    for stage in &first.stages[8..11] {
        assert_eq!(stage.status, "ok", "{stage:?}");
    }

    assert_eq!(scores_on(&pool, today).await, (3, vec![first.run_id]));
    let (band, signals): (String, serde_json::Value) = sqlx::query_as(
        "select s.band, s.signals from scores s join accounts a on a.id = s.account_id where a.external_id = 'A'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(["red", "yellow", "green"].contains(&band.as_str()));
    assert_eq!(
        signals.as_array().unwrap().len(),
        10,
        "the breakdown lists every signal"
    );

    let again = pipeline::run(&pool, today, "test", &Actor::Cli, &Options::default())
        .await
        .unwrap();
    assert!(again.succeeded);
    assert_eq!(
        scores_on(&pool, today).await,
        (3, vec![again.run_id]),
        "the day's scores are replaced, not duplicated"
    );
}

#[sqlx::test]
async fn a_stale_run_is_refused_and_keeps_the_previous_scores(pool: PgPool) {
    company(&pool).await;
    sqlx::query("insert into users (id, email, name, role, password_hash) values ($1, 'analyst@example.com', 'Ann Analyst', 'analyst', 'x')")
        .bind(uuid::Uuid::new_v4())
        .execute(&pool)
        .await
        .unwrap();
    let today = OffsetDateTime::now_utc().date();
    let yesterday = today - Duration::days(1);
    let ok = pipeline::run(&pool, yesterday, "test", &Actor::Cli, &Options::default())
        .await
        .unwrap();
    assert!(ok.succeeded);
    // The newest event (an hour old, or less in the day's first hour) is stale against a
    // limit of none.
    let strict = Options {
        max_event_age: Duration::ZERO,
        ..Options::default()
    };
    let stale = pipeline::run(&pool, today, "test", &Actor::Cli, &strict)
        .await
        .unwrap();
    assert!(!stale.succeeded);
    let freshness = stale.stages.iter().find(|s| s.name == "freshness").unwrap();
    assert_eq!(freshness.status, "failed");
    assert!(
        freshness.detail.contains("ingestion looks stalled"),
        "{}",
        freshness.detail
    );
    assert!(
        !stale.stages.iter().any(|s| s.name == "score"),
        "a failed gate stops the run"
    );
    assert_eq!(scores_on(&pool, today).await.0, 0);
    assert_eq!(
        scores_on(&pool, yesterday).await,
        (3, vec![ok.run_id]),
        "yesterday's scores stay"
    );
    let (status, error): (String, Option<String>) =
        sqlx::query_as("select status::text, error from pipeline_runs where id = $1")
            .bind(stale.run_id)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(status, "failed");
    assert!(error.unwrap().starts_with("freshness"));
    // The analysts hear of it, once per day.
    let alerts: i64 =
        sqlx::query_scalar("select count(*) from model_alerts where kind = 'freshness'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(alerts, 1);
    let emails: Vec<String> = sqlx::query_scalar(
        "select o.recipient from outbox o join users u on u.email = o.recipient
         where u.role = 'analyst' and o.subject = 'Keel model alert: freshness (pipeline)'",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(emails, ["analyst@example.com"]);
}

#[sqlx::test]
async fn the_same_day_never_runs_twice_at_once_and_a_dead_run_never_blocks_it(pool: PgPool) {
    company(&pool).await;
    let today = OffsetDateTime::now_utc().date();
    // Another live process holds today's run.
    let (other, lease) = pipeline::db::start_run(&pool, today, "other worker")
        .await
        .unwrap()
        .unwrap();
    let err = pipeline::run(&pool, today, "test", &Actor::Cli, &Options::default())
        .await
        .unwrap_err();
    assert!(err.is::<pipeline::AlreadyRunning>(), "{err}");
    assert_eq!(scores_on(&pool, today).await.0, 0);

    // That process goes away without finishing its run (its row still says `running`):
    // the day is no longer blocked; the orphan is marked abandoned and the day runs.
    lease.release().await.unwrap();
    let outcome = pipeline::run(&pool, today, "test", &Actor::Cli, &Options::default())
        .await
        .unwrap();
    assert!(outcome.succeeded && outcome.scored > 0);
    let (status, error): (String, Option<String>) =
        sqlx::query_as("select status::text, error from pipeline_runs where id = $1")
            .bind(other)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(status, "failed");
    assert!(error.unwrap_or_default().starts_with("abandoned"));
    assert_eq!(
        pipeline::db::recover_abandoned(&pool).await.unwrap(),
        0,
        "nothing left running"
    );
}

#[sqlx::test]
async fn a_run_left_running_by_a_stopped_process_is_marked_abandoned(pool: PgPool) {
    crate::helpers::migrate(&pool).await;
    let today = OffsetDateTime::now_utc().date();
    sqlx::query(
        "insert into pipeline_runs (day, trigger, status) values ($1, 'killed worker', 'running')",
    )
    .bind(today)
    .execute(&pool)
    .await
    .unwrap();
    assert_eq!(pipeline::db::recover_abandoned(&pool).await.unwrap(), 1);
    let running: i64 =
        sqlx::query_scalar("select count(*) from pipeline_runs where status = 'running'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(running, 0);
}

#[sqlx::test]
async fn the_analyst_runs_the_pipeline_from_the_page_and_accounts_show_their_scores(pool: PgPool) {
    company(&pool).await;
    let app = crate::helpers::TestApp::spawn(pool).await;
    let (analyst, _) = app.login_as(keel::auth::Role::Analyst).await;
    let resp = analyst.post_form("/pipeline/runs", &[]).await;
    let run_url = crate::helpers::location(&resp);
    assert!(run_url.starts_with("/pipeline/runs/"), "{run_url}");
    let log = analyst.get(&run_url).await.text().await.unwrap();
    assert!(
        log.contains("[ok] extract features") && log.contains("succeeded"),
        "{log}"
    );
    let models = analyst.get("/models").await.text().await.unwrap();
    assert!(
        models.contains("hx-get=\"/pipeline/runs\""),
        "the models page loads the runs"
    );
    let runs = analyst.get("/pipeline/runs").await.text().await.unwrap();
    assert!(
        runs.contains(&format!("href=\"{run_url}\"")),
        "the run is listed"
    );

    // Too little history to train on: the page says why.
    let resp = analyst.post_form("/models/train", &[]).await;
    let page = analyst
        .get(&crate::helpers::location(&resp))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("Training failed") && page.contains("snapshot dates"),
        "{page}"
    );

    let id = crate::worklist::id_of(&app, "A").await;
    let account = analyst
        .get(&format!("/accounts/{id}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        account.contains("id=\"scores\"") && account.contains("Health score breakdown"),
        "{account}"
    );
    assert!(
        account.contains("not scored"),
        "no model yet, so no churn probability"
    );
}

#[sqlx::test]
async fn the_scheduler_runs_the_day_once_after_its_time(pool: PgPool) {
    company(&pool).await;
    let now = OffsetDateTime::now_utc();
    let midnight = time::Time::MIDNIGHT;
    let first = keel::jobs::tick(&pool, now, midnight)
        .await
        .unwrap()
        .expect("due after midnight");
    assert!(first.succeeded, "{:?}", first.stages);
    assert!(
        keel::jobs::tick(&pool, now, midnight)
            .await
            .unwrap()
            .is_none(),
        "one successful run a day"
    );
    let trigger: String = sqlx::query_scalar("select trigger from pipeline_runs")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(trigger, "schedule");
}

//! A second product, built here and unlike the demo: a CRM's account export with its own
//! headers, billing with a base plan, add-ons, an annual term and a discount, and events
//! too large for the browser, streamed with `keel import` through saved column mappings.

use keel::auth::Role;
use keel::auth::audit::Actor;
use keel::features::{FEATURES, compute};
use keel::ingest::import::{Plan, import};
use keel::ingest::{Entity, mapping};
use reqwest::StatusCode;
use serde_json::{Value, json};
use time::macros::date;

use crate::helpers::{TestApp, location};

const CRM_ACCOUNTS: &str = "Account ID,Account Name,Tier,Customer Since,Lifecycle,Churn Date,Region\n\
S-1,Solar Ltd,growth,2025-06-01T00:00:00Z,active,,EMEA\n\
S-2,Tidal Inc,starter,2025-09-15 09:30:00,active,,AMER\n";

#[sqlx::test]
async fn exports_load_through_saved_mappings_and_billing_lines_sum(pool: sqlx::PgPool) {
    let app = TestApp::spawn(pool).await;
    let (analyst, _) = app.login_as(Role::Analyst).await;

    // The upload page offers to map the CRM's headers, guessing what it can by name.
    let form = reqwest::multipart::Form::new()
        .text("entity", "accounts")
        .part(
            "file",
            reqwest::multipart::Part::bytes(CRM_ACCOUNTS.as_bytes()).file_name("crm.csv"),
        );
    let staged = analyst
        .http
        .post(app.url("/ingest/uploads"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    let preview_path = location(&staged);
    let html = analyst.get(&preview_path).await.text().await.unwrap();
    assert!(
        html.contains("Map the file&#x27;s columns") || html.contains("Map the file's columns"),
        "{html}"
    );
    assert!(
        html.contains(r#"<option value="Account Name" selected>"#),
        "name guessed"
    );
    let batches: i64 = sqlx::query_scalar("select count(*) from ingest_batches")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(
        batches, 0,
        "a file waiting for its mapping is not recorded as refused"
    );

    // A mapping without a required column is refused, naming it.
    let map_path = format!("{preview_path}/mapping");
    let refused = analyst
        .post_form(
            &map_path,
            &[
                ("col.external_id", "Account ID"),
                ("mapping_name", "Salesforce accounts"),
            ],
        )
        .await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        refused
            .text()
            .await
            .unwrap()
            .contains("name: required, choose the file")
    );

    let saved = analyst
        .post_form(
            &map_path,
            &[
                ("col.external_id", "Account ID"),
                ("col.name", "Account Name"),
                ("col.plan", "Tier"),
                ("col.customer_since", "Customer Since"),
                ("col.status", "Lifecycle"),
                ("col.churned_on", "Churn Date"),
                ("mapping_name", "Salesforce accounts"),
            ],
        )
        .await;
    assert_eq!(location(&saved), preview_path);
    let html = analyst.get(&preview_path).await.text().await.unwrap();
    assert!(html.contains("All 2 rows are valid"), "{html}");
    assert!(html.contains("Salesforce accounts"));
    let confirmed = analyst
        .post_form(&format!("{preview_path}/confirm"), &[])
        .await;
    assert_eq!(confirmed.status(), StatusCode::SEE_OTHER);
    assert_eq!(app.audit_count("ingest.mapping").await, 1);

    // Without seats from the CRM or billing, seat utilisation is missing, not a share of one.
    let before_billing = compute(&app.db, date!(2026 - 10 - 15), &[]).await.unwrap();
    let seat_use = FEATURES
        .iter()
        .position(|f| *f == "seat_utilization")
        .unwrap();
    assert!(before_billing.rows.iter().all(|r| r[seat_use].is_nan()));

    // Billing through the API with a mapping saved for it: S-1 pays an annual base plan,
    // $12,000 less a $1,200 discount (= $900 a month), and a $150 monthly SSO add-on that
    // it drops at the end of October; S-2 pays $600 for six months (= $100 a month).
    let stripe = mapping::ColumnMap {
        name: "Stripe subscriptions".into(),
        entity: Entity::Subscriptions,
        columns: [
            ("account_id", "customer"),
            ("line_id", "item"),
            ("period_start", "current_period_start"),
            ("period_end", "current_period_end"),
            ("plan", "price_nickname"),
            ("amount", "amount"),
            ("discount", "discount_amount"),
            ("seats", "quantity"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect(),
    };
    mapping::upsert(&app.db, &stripe, "test").await.unwrap();
    let (admin, _) = app.login_as(Role::Admin).await;
    let token = admin.api_token(&["subscriptions"]).await;
    let line = |c: &str,
                item: &str,
                from: &str,
                to: &str,
                plan: &str,
                amount: u32,
                discount: u32,
                qty: u32| {
        json!({"customer": c, "item": item, "current_period_start": from, "current_period_end": to,
               "price_nickname": plan, "amount": amount, "discount_amount": discount, "quantity": qty,
               "livemode": true})
    };
    let mut rows = vec![
        line(
            "S-1",
            "base",
            "2026-01-01",
            "2027-01-01",
            "growth annual",
            12_000,
            1_200,
            20,
        ),
        line(
            "S-2",
            "base",
            "2026-07-01",
            "2027-01-01",
            "starter semi-annual",
            600,
            0,
            5,
        ),
    ];
    for month in 1..=10 {
        let from = format!("2026-{month:02}-01");
        let to = if month == 12 {
            "2027-01-01".to_owned()
        } else {
            format!("2026-{:02}-01", month + 1)
        };
        rows.push(line("S-1", "sso", &from, &to, "sso add-on", 150, 0, 0));
    }
    let sent = reqwest::Client::new()
        .post(app.url("/api/v1/subscriptions?mapping=Stripe%20subscriptions"))
        .bearer_auth(&token)
        .json(&rows)
        .send()
        .await
        .unwrap();
    let status = sent.status();
    let outcome: Value = sent.json().await.unwrap();
    assert_eq!(status, StatusCode::CREATED, "{outcome}");
    let unknown = reqwest::Client::new()
        .post(app.url("/api/v1/subscriptions?mapping=Chargebee"))
        .bearer_auth(&token)
        .json(&rows)
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), StatusCode::BAD_REQUEST);

    // The features sum each account's lines in force.
    let mrr = |t: &keel::features::FeatureTable, account: usize| {
        t.rows[account][FEATURES.iter().position(|f| *f == "mrr").unwrap()]
    };
    let downgraded = |t: &keel::features::FeatureTable, account: usize| {
        t.rows[account][FEATURES
            .iter()
            .position(|f| *f == "downgraded_last_period")
            .unwrap()]
    };
    let (s1, s2) = (
        crate::worklist::id_of(&app, "S-1").await,
        crate::worklist::id_of(&app, "S-2").await,
    );
    let at = |t: &keel::features::FeatureTable, a: uuid::Uuid| {
        t.accounts.iter().position(|x| *x == a).unwrap()
    };
    let october = compute(&app.db, date!(2026 - 10 - 15), &[]).await.unwrap();
    assert_eq!(mrr(&october, at(&october, s1)), 900.0 + 150.0);
    assert_eq!(mrr(&october, at(&october, s2)), 100.0);
    assert_eq!(downgraded(&october, at(&october, s1)), 0.0);
    let november = compute(&app.db, date!(2026 - 11 - 15), &[]).await.unwrap();
    assert_eq!(mrr(&november, at(&november, s1)), 900.0);
    assert_eq!(
        downgraded(&november, at(&november, s1)),
        1.0,
        "the add-on went"
    );

    // The accounts take their MRR, seats and renewal from billing, as the CRM gave none.
    let (mrr_cents, seats, renewal): (i64, i32, Option<time::Date>) = sqlx::query_as(
        "select mrr_cents, seats, renewal_date from accounts where external_id = 'S-1'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(
        (mrr_cents, seats, renewal),
        (90_000, 20, Some(date!(2027 - 01 - 01)))
    );

    // Nobody owns the CRM's accounts: an admin hands them to a CSM in one go.
    let csm = app.create_user(Role::Csm).await;
    let page = admin
        .get("/accounts/unassigned")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("2 unassigned") && page.contains("Solar Ltd"),
        "{page}"
    );
    let ids: Vec<String> = sqlx::query_scalar("select id::text from accounts order by external_id")
        .fetch_all(&app.db)
        .await
        .unwrap();
    let stranger = uuid::Uuid::new_v4().to_string();
    let refused = admin
        .hx_post(
            "/accounts/unassigned",
            &[("account", &ids[0]), ("csm", &stranger)],
        )
        .await;
    assert_eq!(refused.status(), StatusCode::BAD_REQUEST);
    let csm_id = csm.id.to_string();
    let done = admin
        .hx_post(
            "/accounts/unassigned",
            &[("account", &ids[0]), ("account", &ids[1]), ("csm", &csm_id)],
        )
        .await
        .text()
        .await
        .unwrap();
    assert!(
        done.contains("Assigned 2 accounts to Test Customer success manager."),
        "{done}"
    );
    assert!(done.contains("Every live account has a CSM."));
    assert_eq!(app.audit_count("account.assign").await, 1);
    let owned: i64 = sqlx::query_scalar("select count(*) from accounts where owner_id = $1")
        .bind(csm.id)
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(owned, 2);
}

#[sqlx::test]
async fn an_interrupted_import_completes_without_counting_twice(pool: sqlx::PgPool) {
    let app = TestApp::spawn(pool).await;
    app.load_csv(
        Entity::Accounts,
        "external_id,name,plan,seats,mrr,customer_since\nS-1,Solar,growth,20,900,2025-06-01\n"
            .into(),
    )
    .await;
    let segment = mapping::ColumnMap {
        name: "Segment tracks".into(),
        entity: Entity::Events,
        columns: [
            ("account_id", "groupId"),
            ("user_id", "userId"),
            ("event_type", "event"),
            ("timestamp", "timestamp"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect(),
    };
    mapping::upsert(&app.db, &segment, "test").await.unwrap();
    // 250 events, one a minute, no event ids: only the chunks' identity keeps them single.
    let mut csv = String::from("messageId,groupId,userId,event,timestamp,context\n");
    for i in 0..250 {
        csv.push_str(&format!(
            "m{i},S-1,u{},deal_created,2026-11-20T{:02}:{:02}:00Z,{{}}\n",
            i % 7,
            i / 60,
            i % 60
        ));
    }
    let dir = std::env::temp_dir().join(format!("keel-import-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let (full, cut) = (dir.join("events.csv"), dir.join("events-cut.csv"));
    std::fs::write(&full, &csv).unwrap();
    // The import died after its first two chunks of 100: the same file's first 200 rows.
    let first_200: String = csv.lines().take(201).map(|l| format!("{l}\n")).collect();
    std::fs::write(&cut, first_200).unwrap();
    let run = |path: std::path::PathBuf| {
        let (db, m) = (app.db.clone(), segment.clone());
        async move {
            let plan = Plan {
                entity: Entity::Events,
                path: &path,
                mapping: Some(&m),
                chunk_rows: 100,
                known: None,
            };
            import(&db, plan, &Actor::Cli, |_| {}).await
        }
    };
    let before = run(cut).await.unwrap();
    assert_eq!((before.chunks, before.accepted, before.events), (2, 2, 200));
    let resumed = run(full.clone()).await.unwrap();
    assert_eq!(
        (resumed.chunks, resumed.unchanged, resumed.accepted),
        (3, 2, 1)
    );
    assert_eq!(resumed.events, 50, "only the rows not in yet");
    let events: i64 = sqlx::query_scalar("select sum(events) from usage_daily")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert_eq!(events, 250, "every event once");

    // A bad row stops the import at its chunk, naming the file's row, the column and why.
    let mut bad = csv.replace("2026-11-20T02:10:00Z", "20/11/2026 02:10");
    bad.push_str("m250,S-1,u1,deal_won,2026-11-21T09:00:00Z,{}\n");
    std::fs::write(&full, bad).unwrap();
    let err = run(full).await.unwrap_err().to_string();
    assert!(err.contains("chunk 2 (rows 101 to 200) refused"), "{err}");
    assert!(
        err.contains("row 131, column timestamp: '20/11/2026 02:10' is not a timestamp"),
        "{err}"
    );

    // An export also names accounts the CRM never sent (trials, deleted ones). Refused by
    // default; left out and counted when asked, the file's row numbers still right.
    let mut strays = String::from("messageId,groupId,userId,event,timestamp,context\n");
    for i in 0..30 {
        let account = if i % 3 == 0 { "GONE-1" } else { "S-1" };
        strays.push_str(&format!(
            "s{i},{account},u1,deal_won,2026-11-22T10:{i:02}:00Z,{{}}\n"
        ));
    }
    strays.push_str("s30,S-1,u1,deal_won,yesterday,{}\n");
    let path = dir.join("strays.csv");
    std::fs::write(&path, &strays).unwrap();
    let refused = run(path.clone()).await.unwrap_err().to_string();
    assert!(refused.contains("unknown account 'GONE-1'"), "{refused}");
    let skipping = || async {
        let known = keel::ingest::import::known_accounts(&app.db, &path, Some(&segment))
            .await
            .unwrap();
        let plan = Plan {
            entity: Entity::Events,
            path: &path,
            mapping: Some(&segment),
            chunk_rows: 100,
            known: Some(known),
        };
        import(&app.db, plan, &Actor::Cli, |_| {}).await
    };
    let err = skipping().await.unwrap_err().to_string();
    assert!(
        err.contains("row 31, column timestamp: 'yesterday'"),
        "{err}"
    );
    strays.truncate(strays.rfind("s30,").unwrap());
    std::fs::write(&path, &strays).unwrap();
    let done = skipping().await.unwrap();
    assert_eq!((done.rows, done.skipped, done.events), (30, 10, 20));
    assert_eq!(done.unknown, ["GONE-1"]);
    std::fs::remove_dir_all(&dir).unwrap();
}

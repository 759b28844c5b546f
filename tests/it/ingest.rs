use keel::auth::Role;
use keel::ingest::{Entity, Payload, Status};
use reqwest::StatusCode;
use sqlx::PgPool;

use crate::helpers::{TestApp, location};

pub const ACCOUNTS_CSV: &str = "external_id,name,plan,seats,mrr,customer_since,renewal_date,status,churned_on\n\
A-1,Acme,business,25,1250.00,2024-03-01,2027-03-01,active,\n\
A-2,Globex,team,5,300,2025-01-15,,churned,2026-06-30\n\
A-3,Initech,starter,2,49.5,2026-10-01,,trial,\n";

pub async fn count(app: &TestApp, table: &str) -> i64 {
    sqlx::query_scalar(&format!("select count(*) from {table}"))
        .fetch_one(&app.db)
        .await
        .unwrap()
}

pub(crate) async fn csv(app: &TestApp, entity: Entity, body: &str) -> keel::ingest::Outcome {
    keel::ingest::ingest(
        &app.db,
        entity,
        Payload::Csv(body.as_bytes().to_vec()),
        None,
        "test",
        &keel::auth::audit::Actor::Cli,
    )
    .await
    .unwrap()
}

#[sqlx::test]
async fn accounts_load_with_segments_and_a_resend_changes_nothing(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let first = csv(&app, Entity::Accounts, ACCOUNTS_CSV).await;
    assert_eq!(first.status, Status::Accepted, "{:?}", first.errors);
    assert_eq!(first.written, 3);
    let segments: Vec<(String, String, i64)> =
        sqlx::query_as("select external_id, segment, mrr_cents from accounts order by external_id")
            .fetch_all(&app.db)
            .await
            .unwrap();
    assert_eq!(
        segments,
        vec![
            ("A-1".into(), "mid_market".into(), 125_000),
            ("A-2".into(), "smb".into(), 30_000),
            ("A-3".into(), "self_serve".into(), 4_950)
        ]
    );
    let updated_at: Vec<time::OffsetDateTime> =
        sqlx::query_scalar("select updated_at from accounts order by external_id")
            .fetch_all(&app.db)
            .await
            .unwrap();
    let again = csv(&app, Entity::Accounts, ACCOUNTS_CSV).await;
    assert_eq!(again.status, Status::Unchanged);
    // The same rows in another order are a different file, yet change nothing either.
    let reordered: String = {
        let mut lines: Vec<&str> = ACCOUNTS_CSV.lines().collect();
        lines[1..].reverse();
        lines.join("\n")
    };
    let third = csv(&app, Entity::Accounts, &reordered).await;
    assert_eq!(third.status, Status::Accepted);
    assert_eq!(third.written, 0, "identical rows must not be rewritten");
    let after: Vec<time::OffsetDateTime> =
        sqlx::query_scalar("select updated_at from accounts order by external_id")
            .fetch_all(&app.db)
            .await
            .unwrap();
    assert_eq!(updated_at, after);
    assert_eq!(count(&app, "accounts").await, 3);
}

/// Each bad file is refused whole, names the row, column and reason, and writes nothing.
#[sqlx::test]
async fn the_segment_thresholds_agree_with_the_stored_segment_at_every_boundary(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let mrrs = [0.0, 199.99, 200.0, 999.99, 1000.0, 4999.99, 5000.0, 80000.0];
    let mut body = String::from("external_id,name,plan,seats,mrr,customer_since\n");
    for (i, mrr) in mrrs.iter().enumerate() {
        body.push_str(&format!("S-{i},Seg {i},team,1,{mrr:.2},2025-01-01\n"));
    }
    assert_eq!(
        csv(&app, Entity::Accounts, &body).await.status,
        Status::Accepted
    );
    for (i, mrr) in mrrs.iter().enumerate() {
        let stored: String =
            sqlx::query_scalar("select segment from accounts where external_id = $1")
                .bind(format!("S-{i}"))
                .fetch_one(&app.db)
                .await
                .unwrap();
        assert_eq!(
            stored,
            keel::segment::Segment::from_mrr(*mrr).as_str(),
            "MRR {mrr}"
        );
    }
}

#[sqlx::test]
async fn bad_rows_reject_the_whole_batch(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    csv(&app, Entity::Accounts, ACCOUNTS_CSV).await;
    let long_name = format!(
        "external_id,name,plan,seats,mrr,customer_since\nB-1,{},team,3,10,2025-01-01\n",
        "x".repeat(2_001)
    );
    let cases: [(Entity, &str, usize, &str, &str); 15] = [
        (
            Entity::Accounts,
            "external_id,name,plan,seats,mrr,customer_since\nB-1,Beta,team,3,10,2025-01-01,surplus,cells\n",
            0,
            "",
            "a row has more cells than the header has columns",
        ),
        (
            Entity::Accounts,
            "external_id,name,plan,seats,mrr,customer_since\nB-1,Beta,team,3,92233720368547758,2025-01-01\n",
            1,
            "mrr",
            "more than $1,000,000,000",
        ),
        (
            Entity::Accounts,
            "external_id,name,plan,seats,mrr,customer_since\nB-1,Beta,team,3,10,0000-01-01\n",
            1,
            "customer_since",
            "not between 1970 and 2100",
        ),
        (
            Entity::Accounts,
            &long_name,
            1,
            "name",
            "longer than 2000 characters",
        ),
        (
            Entity::Contacts,
            "account_id,external_id,name,email\nA-1,C-1,Ann,ann@acme.example\nA-1,C-2,Bob,bob at acme\n",
            2,
            "email",
            "'bob at acme' is not an email address",
        ),
        (
            Entity::Accounts,
            "external_id,name,plan,seats,mrr\nB-1,Beta,team,3,10\n",
            0,
            "customer_since",
            "missing required column",
        ),
        (
            Entity::Subscriptions,
            "account_id,period_start,period_end,plan\nA-1,2026-01-01,2026-02-01,team\n",
            1,
            "mrr",
            "required: mrr, or amount for the term",
        ),
        (
            Entity::Subscriptions,
            "account_id,period_start,period_end,plan,amount,discount\nA-1,2026-01-01,2026-01-20,team,100,0\n",
            1,
            "term_months",
            "shorter than a month",
        ),
        (
            Entity::Accounts,
            "external_id,name,plan,seats,mrr,customer_since,colour\nB-1,Beta,team,3,10,2025-01-01,red\n",
            0,
            "colour",
            "unknown column",
        ),
        (
            Entity::Accounts,
            "external_id,name,plan,seats,mrr,customer_since\nB-1,Beta,team,3,10,2025-01-01\nB-2,Gamma,team,3,10,01/02/2025\n",
            2,
            "customer_since",
            "is not a date",
        ),
        (
            Entity::Accounts,
            "external_id,name,plan,seats,mrr,customer_since\nB-1,Beta,team,3,-10.00,2025-01-01\n",
            1,
            "mrr",
            "negative amount",
        ),
        (
            Entity::Subscriptions,
            "account_id,period_start,period_end,plan,seats,mrr\nA-1,2026-01-01,2026-02-01,team,3,10\nZZZ,2026-01-01,2026-02-01,team,3,10\n",
            2,
            "account_id",
            "unknown account 'ZZZ'",
        ),
        (
            Entity::Accounts,
            "external_id,name,plan,seats,mrr,customer_since\nB-1,Beta,team,3,10,2025-01-01\nB-1,Beta again,team,3,10,2025-01-01\n",
            2,
            "external_id",
            "duplicate key 'B-1' within the batch",
        ),
        (
            Entity::Events,
            "account_id,user_id,event_type,timestamp\nA-1,u1,task_created,2026-11-01T10:00:00Z\nA-1,u1,!!!,2026-11-01T10:00:00Z\n",
            2,
            "event_type",
            "is not an event type",
        ),
        (
            Entity::Events,
            "account_id,user_id,event_type,timestamp\nA-1,u1,task_created,2099-01-01T00:00:00Z\n",
            1,
            "timestamp",
            "is in the future",
        ),
    ];
    for (entity, body, row, column, reason) in cases {
        let before = (
            count(&app, "accounts").await,
            count(&app, "subscription_periods").await,
            count(&app, "usage_user_daily").await,
            count(&app, "contacts").await,
        );
        let out = csv(&app, entity, body).await;
        assert_eq!(out.status, Status::Rejected, "{entity}: {body}");
        assert!(
            out.errors
                .iter()
                .any(|e| e.row == row && e.column == column && e.message.contains(reason)),
            "{entity}: expected row {row} column {column} '{reason}', got {:?}",
            out.errors
        );
        let after = (
            count(&app, "accounts").await,
            count(&app, "subscription_periods").await,
            count(&app, "usage_user_daily").await,
            count(&app, "contacts").await,
        );
        assert_eq!(before, after, "a rejected batch wrote rows");
    }
    let rejected: i64 =
        sqlx::query_scalar("select count(*) from ingest_batches where status = 'rejected'")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(
        rejected,
        cases.len() as i64,
        "refusals are recorded with their reasons"
    );
}

#[sqlx::test]
async fn a_csv_upload_is_previewed_checked_and_confirmed(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let (analyst, _) = app.login_as(Role::Analyst).await;
    let upload = |name: &'static str, body: &'static str| {
        let form = reqwest::multipart::Form::new()
            .text("entity", "accounts")
            .part(
                "file",
                reqwest::multipart::Part::bytes(body.as_bytes()).file_name(name),
            );
        analyst
            .http
            .post(app.url("/ingest/uploads"))
            .multipart(form)
            .send()
    };
    let bad = upload(
        "bad.csv",
        "external_id,name,plan,seats,mrr,customer_since\nB-1,Beta,team,three,10,2025-01-01\n",
    )
    .await
    .unwrap();
    assert_eq!(bad.status(), StatusCode::SEE_OTHER);
    let preview = analyst.get(&location(&bad)).await.text().await.unwrap();
    assert!(
        preview.contains("row 1, column seats: &#39;three&#39; is not a whole number"),
        "{preview}"
    );
    assert!(!preview.contains("Confirm and ingest"));
    assert_eq!(count(&app, "accounts").await, 0);

    let good = upload("good.csv", ACCOUNTS_CSV).await.unwrap();
    let preview_url = location(&good);
    let preview = analyst.get(&preview_url).await.text().await.unwrap();
    assert!(preview.contains("All 3 rows are valid."));
    assert!(preview.contains("<td>Globex</td>"), "first rows are shown");
    assert_eq!(count(&app, "accounts").await, 0, "a preview writes nothing");
    let confirmed = analyst
        .post_form(&format!("{preview_url}/confirm"), &[])
        .await;
    assert!(location(&confirmed).starts_with("/ingest#batch-"));
    assert_eq!(count(&app, "accounts").await, 3);
    let page = analyst.get("/ingest").await.text().await.unwrap();
    assert!(
        page.contains("good.csv") || page.contains(">accepted<"),
        "the batch is listed"
    );
    assert_eq!(
        analyst.get(&preview_url).await.status(),
        StatusCode::NOT_FOUND,
        "a confirmed upload is gone"
    );

    // Another analyst cannot see someone else's staged upload.
    let second = upload("again.csv", ACCOUNTS_CSV).await.unwrap();
    let (other, _) = app.login_as(Role::Analyst).await;
    assert_eq!(
        other.get(&location(&second)).await.status(),
        StatusCode::NOT_FOUND
    );
}

#[sqlx::test]
async fn csms_see_only_their_own_accounts(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let (csm_client, csm) = app.login_as(Role::Csm).await;
    let other = app.create_user(Role::Csm).await;
    let body = format!(
        "external_id,name,plan,seats,mrr,customer_since,owner_email\nM-1,Mine Inc,team,3,500,2025-01-01,{}\nT-1,Theirs Ltd,team,3,500,2025-01-01,{}\n",
        csm.email, other.email
    );
    assert_eq!(
        csv(&app, Entity::Accounts, &body).await.status,
        Status::Accepted
    );
    let list = csm_client.get("/accounts").await.text().await.unwrap();
    assert!(list.contains("Mine Inc") && !list.contains("Theirs Ltd"));
    let theirs = crate::worklist::id_of(&app, "T-1").await;
    let mine = crate::worklist::id_of(&app, "M-1").await;
    assert_eq!(
        csm_client
            .get(&format!("/accounts/{theirs}"))
            .await
            .status(),
        StatusCode::NOT_FOUND
    );
    let page = csm_client
        .get(&format!("/accounts/{mine}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("Mine Inc") && page.contains("$6,000"),
        "ARR = 12 × MRR"
    );
    let (analyst, _) = app.login_as(Role::Analyst).await;
    assert!(
        analyst
            .get("/accounts?q=theirs")
            .await
            .text()
            .await
            .unwrap()
            .contains("Theirs Ltd")
    );
    // A page number past any book is an empty page, not an error.
    let far = analyst.get("/accounts?page=9223372036854775807").await;
    assert_eq!(far.status(), 200);
}

#[sqlx::test]
async fn unconfirmed_uploads_are_dropped_after_a_day(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let user = app.create_user(Role::Analyst).await;
    for age in ["25 hours", "1 hour"] {
        sqlx::query(
            "insert into ingest_uploads (id, entity, filename, content, uploaded_by, created_at)
             values (gen_random_uuid(), 'accounts', 'a.csv', 'x', $1, now() - $2::interval)",
        )
        .bind(user.id)
        .bind(age)
        .execute(&app.db)
        .await
        .unwrap();
    }
    let dropped = keel::ingest::clean_up(&app.db, time::OffsetDateTime::now_utc())
        .await
        .unwrap();
    assert_eq!(dropped, 1);
    assert_eq!(
        count(&app, "ingest_uploads").await,
        1,
        "the recent one waits for its confirmation"
    );
}

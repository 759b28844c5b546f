//! Event ingestion over HTTP and in bulk: roll-ups against hand-computed figures, idempotent
//! event ids, API tokens and scopes, and retention of per-user days.

use keel::auth::Role;
use keel::ingest::{Entity, Status};
use reqwest::StatusCode;
use serde_json::{Value, json};
use sqlx::PgPool;

use crate::helpers::TestApp;
use crate::ingest::{ACCOUNTS_CSV, count, csv};

#[sqlx::test]
async fn events_roll_up_to_the_hand_computed_figures(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    csv(&app, Entity::Accounts, ACCOUNTS_CSV).await;
    let events = "account_id,user_id,event_type,timestamp,count,event_id\n\
A-1,u1,task_created,2026-11-01T09:00:00Z,2,e1\n\
A-1,u1,comment_added,2026-11-01T10:00:00Z,,e2\n\
A-1,u1,board_viewed,2026-11-01T11:00:00Z,3,e3\n\
A-1,u2,gantt_viewed,2026-11-01 23:59:59,1,e4\n\
A-1,u2,invite_sent,2026-11-01T12:00:00Z,1,e5\n\
A-1,u1,page_viewed,2026-11-02T00:00:01Z,5,e6\n\
A-2,u9,board_created,2026-11-01T08:00:00Z,1,e7\n";
    let out = csv(&app, Entity::Events, events).await;
    assert_eq!(out.status, Status::Accepted, "{:?}", out.errors);
    assert_eq!(out.events, 14);
    let user_days: Vec<(String, String, i32, i32, i32, i32, i32)> = sqlx::query_as(
        "select a.external_id, u.user_ref || '@' || u.day, u.events, u.core_actions, u.comments, u.invites, u.categories
         from usage_user_daily u join accounts a on a.id = u.account_id order by 1, 2",
    )
    .fetch_all(&app.db)
    .await
    .unwrap();
    assert_eq!(
        user_days,
        vec![
            ("A-1".into(), "u1@2026-11-01".into(), 6, 3, 1, 0, 0b1),
            ("A-1".into(), "u1@2026-11-02".into(), 5, 0, 0, 0, 0),
            (
                "A-1".into(),
                "u2@2026-11-01".into(),
                2,
                0,
                0,
                1,
                0b10_0000_0010
            ),
            ("A-2".into(), "u9@2026-11-01".into(), 1, 0, 0, 0, 0b1),
        ]
    );
    let day: (i32, i32, i32, i32) = sqlx::query_as(
        "select active_users, events, core_actions, categories from usage_daily d
         join accounts a on a.id = d.account_id where a.external_id = 'A-1' and day = '2026-11-01'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!(day, (2, 8, 3, 0b10_0000_0011));
    let named = |pairs: &[(&str, i32)]| -> Vec<(String, i32)> {
        pairs.iter().map(|(n, c)| ((*n).to_owned(), *c)).collect()
    };
    let by_type = [
        ("board_viewed", 3),
        ("comment_added", 1),
        ("gantt_viewed", 1),
        ("invite_sent", 1),
        ("task_created", 2),
    ];
    assert_eq!(day_types(&app, "A-1", "2026-11-01").await, named(&by_type));
    assert_eq!(
        day_types(&app, "A-1", "2026-11-02").await,
        named(&[("page_viewed", 5)])
    );

    // A later batch for the same day adds to it; re-sending it changes nothing more.
    let more =
        "account_id,user_id,event_type,timestamp\nA-1,u3,task_completed,2026-11-01T15:00:00Z\n";
    assert_eq!(
        csv(&app, Entity::Events, more).await.status,
        Status::Accepted
    );
    assert_eq!(
        csv(&app, Entity::Events, more).await.status,
        Status::Unchanged
    );
    let (users, core): (i32, i32) = sqlx::query_as(
        "select active_users, core_actions from usage_daily d join accounts a on a.id = d.account_id
         where a.external_id = 'A-1' and day = '2026-11-01'",
    )
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert_eq!((users, core), (3, 4));
    let mut more_types = by_type.to_vec();
    more_types.push(("task_completed", 1));
    more_types.sort();
    assert_eq!(
        day_types(&app, "A-1", "2026-11-01").await,
        named(&more_types)
    );
}

/// An account-day's events by type name; checks the type arrays are in type-id order.
pub(crate) async fn day_types(app: &TestApp, account: &str, day: &str) -> Vec<(String, i32)> {
    let (names, counts, sorted): (Vec<String>, Vec<i32>, bool) = sqlx::query_as(
        "select array_agg(t.name order by t.name), array_agg(x.n order by t.name),
                bool_and(d.event_types = (select array_agg(i order by i) from unnest(d.event_types) i))
         from usage_daily d join accounts a on a.id = d.account_id
         cross join unnest(d.event_types, d.type_events) x(id, n)
         join event_types t on t.id = x.id
         where a.external_id = $1 and d.day = $2::date",
    )
    .bind(account)
    .bind(day)
    .fetch_one(&app.db)
    .await
    .unwrap();
    assert!(sorted, "{account} {day}: type arrays out of order");
    names.into_iter().zip(counts).collect()
}

#[sqlx::test]
async fn api_batches_need_a_live_token_with_the_right_scope(pool: PgPool) {
    let app = TestApp::spawn_with(pool, |c| c.max_batch_mb = 1).await;
    let (admin, _) = app.login_as(Role::Admin).await;
    let secret = admin.api_token(&["accounts"]).await;
    let body = json!([{"external_id": "J-1", "name": "Json Co", "plan": "team", "seats": 4, "mrr": 250, "customer_since": "2025-05-01"}]);
    let http = reqwest::Client::new();
    let post = |path: &str, token: Option<&str>, body: &Value| {
        let mut req = http.post(app.url(path)).json(body);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        req.send()
    };

    let anonymous = post("/api/v1/accounts", None, &body).await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
    assert!(anonymous.text().await.unwrap().contains("API token"));
    assert_eq!(
        post("/api/v1/accounts", Some("keel_wrong"), &body)
            .await
            .unwrap()
            .status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        post("/api/v1/events", Some(&secret), &json!([]))
            .await
            .unwrap()
            .status(),
        StatusCode::FORBIDDEN
    );

    let created = post("/api/v1/accounts", Some(&secret), &body)
        .await
        .unwrap();
    assert_eq!(created.status(), StatusCode::CREATED);
    let outcome: Value = created.json().await.unwrap();
    assert_eq!(outcome["status"], "accepted");
    let again = post("/api/v1/accounts", Some(&secret), &body)
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::OK);
    assert_eq!(again.json::<Value>().await.unwrap()["status"], "unchanged");

    let bad = json!({"rows": [{"external_id": "J-2", "name": "Bad", "plan": "team", "seats": "many", "mrr": 1, "customer_since": "2025-05-01"}]});
    let refused = post("/api/v1/accounts", Some(&secret), &bad).await.unwrap();
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let refused: Value = refused.json().await.unwrap();
    assert_eq!(refused["errors"][0]["row"], 1);
    assert_eq!(refused["errors"][0]["column"], "seats");

    let huge = Value::Array(vec![body[0].clone(); 20_000]);
    let too_large = post("/api/v1/accounts", Some(&secret), &huge)
        .await
        .unwrap();
    assert_eq!(too_large.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert!(too_large.text().await.unwrap().contains("larger than 1 MB"));

    let id: uuid::Uuid = sqlx::query_scalar("select id from api_tokens")
        .fetch_one(&app.db)
        .await
        .unwrap();
    admin
        .post_form(&format!("/admin/tokens/{id}/revoke"), &[])
        .await;
    assert_eq!(
        post("/api/v1/accounts", Some(&secret), &body)
            .await
            .unwrap()
            .status(),
        StatusCode::UNAUTHORIZED
    );
    let stored: String = sqlx::query_scalar("select token_hash from api_tokens")
        .fetch_one(&app.db)
        .await
        .unwrap();
    assert!(
        !stored.contains(&secret[5..]),
        "the secret itself is not stored"
    );
    assert_eq!(app.audit_count("token.revoke").await, 1);
}

#[sqlx::test]
async fn an_event_with_an_id_counts_once_however_often_it_is_sent(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    csv(&app, Entity::Accounts, ACCOUNTS_CSV).await;
    let total = || async {
        sqlx::query_scalar::<_, i64>(
            "select coalesce(sum(events), 0)::bigint from usage_user_daily",
        )
        .fetch_one(&app.db)
        .await
        .unwrap()
    };
    let head = "account_id,user_id,event_type,timestamp,event_id\n";
    let e = |id: &str| format!("A-1,u1,task_created,2026-11-01T09:00:00Z,{id}\n");
    let first = csv(
        &app,
        Entity::Events,
        &format!("{head}{}{}{}", e("e1"), e("e2"), e("e3")),
    )
    .await;
    assert_eq!((first.status, first.events), (Status::Accepted, 3));
    assert_eq!(total().await, 3);
    // The same events again with one more: only the new one counts.
    let more = csv(
        &app,
        Entity::Events,
        &format!("{head}{}{}{}{}", e("e1"), e("e2"), e("e3"), e("e4")),
    )
    .await;
    assert_eq!((more.status, more.events), (Status::Accepted, 1));
    assert_eq!(total().await, 4);
    // Reordered, or a subset: nothing new.
    csv(
        &app,
        Entity::Events,
        &format!("{head}{}{}", e("e3"), e("e1")),
    )
    .await;
    assert_eq!(total().await, 4);
    // Without ids, every arrival counts (the README says so).
    let bare =
        "account_id,user_id,event_type,timestamp\nA-1,u1,task_created,2026-11-01T09:00:00Z\n";
    csv(&app, Entity::Events, bare).await;
    csv(
        &app,
        Entity::Events,
        &format!("{bare}A-1,u2,task_created,2026-11-01T09:00:00Z\n"),
    )
    .await;
    assert_eq!(total().await, 7);
    // A refused batch records no id: its events count when they come back valid.
    let refused = csv(
        &app,
        Entity::Events,
        &format!(
            "{head}{}ZZZ,u1,task_created,2026-11-01T09:00:00Z,e6\n",
            e("e5")
        ),
    )
    .await;
    assert_eq!(refused.status, Status::Rejected);
    let again = csv(&app, Entity::Events, &format!("{head}{}", e("e5"))).await;
    assert_eq!(again.events, 1);
    assert_eq!(total().await, 8);
}

#[sqlx::test]
async fn per_user_days_past_thirteen_months_are_pruned_and_the_account_days_stay(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    csv(&app, Entity::Accounts, ACCOUNTS_CSV).await;
    let now = time::OffsetDateTime::now_utc();
    let at = |days_ago: i64| {
        (now - time::Duration::days(days_ago))
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap()
    };
    let events = format!(
        "account_id,user_id,event_type,timestamp\nA-1,u1,task_created,{}\nA-1,u1,task_created,{}\n",
        at(390),
        at(3)
    );
    assert_eq!(
        csv(&app, Entity::Events, &events).await.status,
        Status::Accepted
    );
    // Thirteen months later, the old user-day goes; its account-day stays.
    let later = now + time::Duration::days(10);
    assert_eq!(
        keel::ingest::retention::prune(&app.db, later, time::Duration::days(396))
            .await
            .unwrap(),
        1
    );
    assert_eq!(count(&app, "usage_user_daily").await, 1);
    assert_eq!(
        count(&app, "usage_daily").await,
        2,
        "account roll-ups are kept"
    );
    assert_eq!(app.audit_count("retention.prune").await, 1);
    assert_eq!(
        keel::ingest::retention::prune(&app.db, later, time::Duration::days(396))
            .await
            .unwrap(),
        0
    );
}

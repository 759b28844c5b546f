//! A contact's personal data: exported on request, erased on request, aggregates kept.

use keel::auth::Role;
use keel::auth::audit::Actor;
use keel::ingest::{Entity, Payload, Status};
use reqwest::StatusCode;
use sqlx::PgPool;

use crate::helpers::TestApp;

async fn load(pool: &PgPool, entity: Entity, body: &str) {
    let out = keel::ingest::ingest(
        pool,
        entity,
        Payload::Csv(body.as_bytes().to_vec()),
        None,
        "test",
        &Actor::Cli,
    )
    .await
    .unwrap();
    assert_eq!(out.status, Status::Accepted, "{entity}: {:?}", out.errors);
}

#[sqlx::test]
async fn a_contact_is_exported_then_erased_and_the_counts_stay(pool: PgPool) {
    let app = TestApp::spawn(pool.clone()).await;
    load(
        &pool,
        Entity::Accounts,
        "external_id,name,plan,seats,mrr,customer_since\nA-1,Acme,team,5,500,2025-01-01\n",
    )
    .await;
    load(
        &pool,
        Entity::Contacts,
        "account_id,external_id,name,email,title,champion,user_id\nA-1,C-1,Ravi Patel,ravi@acme.example,Head of Ops,true,u1\n",
    )
    .await;
    load(
        &pool,
        Entity::Events,
        "account_id,user_id,event_type,timestamp,count\nA-1,u1,task_created,2026-11-01T09:00:00Z,4\nA-1,u2,task_created,2026-11-01T09:00:00Z,3\n",
    )
    .await;
    load(
        &pool,
        Entity::Nps,
        "account_id,external_id,responded_at,score,user_id,comment\nA-1,N-1,2026-10-01T08:00:00Z,3,u1,Too slow for us\n",
    )
    .await;
    let account = crate::worklist::id_of(&app, "A-1").await;
    let (admin, _) = app.login_as(Role::Admin).await;
    let (csm, _) = app.login_as(Role::Csm).await;
    let export = format!("/accounts/{account}/contacts/C-1/export.json");
    assert_eq!(csm.get(&export).await.status(), StatusCode::FORBIDDEN);
    let data: serde_json::Value = admin.get(&export).await.json().await.unwrap();
    assert_eq!(data["contact"]["email"], "ravi@acme.example");
    assert_eq!(data["nps_responses"][0]["comment"], "Too slow for us");
    assert_eq!(data["product_usage_by_day"][0]["events"], 4);

    // The months read model holds the person's days too.
    keel::features::months::catch_up(&pool).await.unwrap();
    let erased = admin
        .post_form(&format!("/accounts/{account}/contacts/C-1/erase"), &[])
        .await;
    assert_eq!(erased.status(), StatusCode::SEE_OTHER);
    let (name, email, title, user_ref): (
        Option<String>,
        Option<String>,
        Option<String>,
        Option<String>,
    ) = sqlx::query_as(
        "select name, email, title, user_ref from contacts where external_id = 'C-1'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!((name, email, title, user_ref), (None, None, None, None));
    keel::features::months::catch_up(&pool).await.unwrap();
    for table in ["usage_user_daily", "usage_user_months"] {
        let linked: i64 = sqlx::query_scalar(&format!(
            "select count(*) from {table} where user_ref = 'u1'"
        ))
        .fetch_one(&pool)
        .await
        .unwrap();
        assert_eq!(linked, 0, "no {table} row leads back to the person");
    }
    let people: i64 = sqlx::query_scalar("select count(distinct user_ref) from usage_user_months")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(people, 2, "the erased person's months stay, unlinked");
    let (total, users): (i64, i64) = sqlx::query_as(
        "select sum(events)::bigint, count(distinct user_ref) from usage_user_daily",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!((total, users), (7, 2), "the counts stay");
    let (score, comment): (i16, Option<String>) =
        sqlx::query_as("select score, comment from nps_responses where external_id = 'N-1'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!((score, comment), (3, None));
    let leaked: i64 = sqlx::query_scalar(
        "select count(*) from audit_log where details::text like '%ravi%' or target like '%ravi%'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(leaked, 0, "the audit log names the contact by CRM id only");
    assert_eq!(app.audit_count("contact.erase").await, 1);
    assert_eq!(app.audit_count("contact.export").await, 1);
}

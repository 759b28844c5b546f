//! Managers' side of playbooks over HTTP: the outbox and adherence, the editor's validation and
//! preview, and what default customer emails leave out.

use keel::auth::Role;
use time::{Duration, OffsetDateTime};

use crate::playbooks::{Played, played};
use crate::worklist::book;

#[sqlx::test]
async fn the_admin_reads_the_outbox_and_the_manager_sees_adherence(pool: sqlx::PgPool) {
    let Played { b, now, .. } = played(pool.clone()).await;
    keel::playbooks::sweep(&pool, now + Duration::hours(25))
        .await
        .unwrap();
    let (admin, _) = b.app.login_as(Role::Admin).await;
    let outbox = admin.get("/admin/outbox").await.text().await.unwrap();
    assert!(outbox.contains("3 escalations: 3 SLA breached, 0 unresolved"));
    let (manager_client, manager) = b.app.login_as(Role::Manager).await;
    sqlx::query("update users set manager_id = $1 where id = $2")
        .bind(manager.id)
        .bind(b.csm_user.id)
        .execute(&pool)
        .await
        .unwrap();
    // Two more CSMs, named so that text order would put 11 before 3.
    for name in ["CSM 11", "CSM 3"] {
        let u = b.app.create_user(Role::Csm).await;
        sqlx::query("update users set name = $1, manager_id = $2 where id = $3")
            .bind(name)
            .bind(manager.id)
            .bind(u.id)
            .execute(&pool)
            .await
            .unwrap();
    }
    // Every task done, but nobody logged contact: nothing counts as resolved.
    sqlx::query("update tasks set status = 'done', completed_at = now()")
        .execute(&pool)
        .await
        .unwrap();
    let team = manager_client.get("/team?days=30").await;
    assert_eq!(team.status(), 200);
    let html = team.text().await.unwrap();
    assert!(html.contains("id=\"adherence\"") && html.contains("Playbook engagement"));
    assert!(html.contains("Funnel: alerts, tasks, contact, resolved"));
    let at = |s: &str| html.find(s).unwrap_or_else(|| panic!("{s} in {html}"));
    assert!(at(">CSM 3<") < at(">CSM 11<"), "natural order");
    assert!(
        html.contains(&format!("href=\"/worklist?csm={}\"", b.csm_user.id)),
        "each CSM's name opens their worklist"
    );
    assert!(
        html.contains("contact: 0 plays") && html.contains("resolved: 0 plays"),
        "a stage never holds more than the one before: {html}"
    );
    assert_eq!(manager_client.get("/team?days=0").await.status(), 400);
}

#[sqlx::test]
async fn managers_write_playbooks_with_a_preview_and_toggle_them(pool: sqlx::PgPool) {
    let b = book(pool.clone()).await;
    let (manager, _) = b.app.login_as(Role::Manager).await;
    let list = manager.get("/playbooks").await.text().await.unwrap();
    for name in [
        "Small decrement",
        "Medium decrement",
        "Large decrement",
        "At-risk high-ARR",
        "At-risk SMB",
        "At-risk trial",
    ] {
        assert!(list.contains(name), "default playbook {name}");
    }
    let bad = manager
        .post_form(
            "/playbooks",
            &[
                ("name", "Renewal watch"),
                ("rule", r#"{"max_days_to_renew": 30}"#),
                (
                    "steps",
                    r#"[{"title": "Call", "kind": "fax", "owner_role": "csm", "sla_hours": 24}]"#,
                ),
            ],
        )
        .await;
    assert_eq!(bad.status(), 422);
    let html = bad.text().await.unwrap();
    assert!(
        html.contains("unknown field `max_days_to_renew`") && html.contains("kind &#39;fax&#39;"),
        "{html}"
    );

    let rule = r#"{"max_days_to_renewal": 30}"#;
    // The book's own manager sees the match on their team; another manager sees the count
    // company-wide but not whose account it is.
    let preview = b
        .manager
        .hx_post("/playbooks/preview", &[("rule", rule)])
        .await
        .text()
        .await
        .unwrap();
    assert!(
        preview.contains(": 1 accounts")
            && preview.contains("Bravo Ltd")
            && preview.contains("renews in 20 days"),
        "{preview}"
    );
    let other = manager
        .hx_post("/playbooks/preview", &[("rule", rule)])
        .await
        .text()
        .await
        .unwrap();
    assert!(
        other.contains(": 1 accounts") && other.contains("the 0 on your team"),
        "{other}"
    );
    assert!(
        !other.contains("Bravo Ltd"),
        "another team's account leaked: {other}"
    );
    let steps = r#"[{"title": "Plan the renewal", "kind": "meeting", "owner_role": "csm", "sla_hours": 72}]"#;
    let saved = manager
        .post_form(
            "/playbooks",
            &[("name", "Renewal watch"), ("rule", rule), ("steps", steps)],
        )
        .await;
    assert_eq!(saved.status(), 303);
    assert_eq!(b.app.audit_count("playbook.save").await, 1);
    let twin = manager
        .post_form(
            "/playbooks",
            &[("name", "Renewal watch"), ("rule", rule), ("steps", steps)],
        )
        .await;
    assert_eq!(twin.status(), 422, "names are unique");

    let id: i64 = sqlx::query_scalar("select id from playbooks where name = 'Renewal watch'")
        .fetch_one(&pool)
        .await
        .unwrap();
    let row = manager
        .hx_post(&format!("/playbooks/{id}/toggle"), &[])
        .await
        .text()
        .await
        .unwrap();
    assert!(row.starts_with(&format!("<tr id=\"playbook-{id}\"")) && row.contains("disabled"));
    assert_eq!(b.app.audit_count("playbook.disable").await, 1);
    let today = OffsetDateTime::now_utc().date();
    let mut tx = pool.begin().await.unwrap();
    let (_, opened) = keel::pipeline::open_plays(&pool, &mut tx, today, OffsetDateTime::now_utc())
        .await
        .unwrap();
    tx.commit().await.unwrap();
    assert!(
        !opened.by_playbook.iter().any(|(n, _)| n == "Renewal watch"),
        "a disabled playbook opens nothing"
    );
    let (csm, _) = b.app.login_as(Role::Csm).await;
    assert_eq!(csm.get("/playbooks").await.status(), 403);
}

/// Every default playbook's emails render with customer-safe fields only: no risk driver,
/// health score or churn probability, and none of their wording.
#[sqlx::test]
async fn default_customer_emails_carry_no_internal_signals(pool: sqlx::PgPool) {
    let playbooks = keel::playbooks::db::list(&pool).await.unwrap();
    let mut emails = 0;
    for p in playbooks {
        let steps: Vec<keel::playbooks::rules::Step> = serde_json::from_value(p.steps).unwrap();
        for email in steps.iter().filter_map(|s| s.email.as_ref()) {
            let (subject, body) = email
                .render(&|f| Some(format!("[{f}]")))
                .unwrap_or_else(|e| panic!("{}: {e}", p.name));
            let text = format!("{subject}\n{body}").to_lowercase();
            for word in [
                "risk",
                "churn",
                "health",
                "score",
                "noticed",
                "probability",
                "%",
            ] {
                assert!(!text.contains(word), "{}: '{word}' in {text}", p.name);
            }
            emails += 1;
        }
    }
    assert!(emails > 0, "the defaults include a customer email");
}

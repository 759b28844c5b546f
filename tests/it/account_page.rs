//! The account page over HTTP: its history and workspace, the reason codes CSMs pick from, a
//! former customer, and who may see which accounts.

use keel::auth::Role;
use time::OffsetDateTime;

use crate::worklist::{book, id_of, task_id};

#[sqlx::test]
async fn nobody_sees_or_acts_on_accounts_outside_their_book(pool: sqlx::PgPool) {
    let b = book(pool).await;
    let theirs = id_of(&b.app, "B1").await;
    // 404, not 403: another CSM's accounts are not enumerable.
    assert_eq!(
        b.csm.get(&format!("/accounts/{theirs}")).await.status(),
        404
    );
    for (path, form) in [
        (
            format!("/accounts/{theirs}/interventions"),
            vec![("kind", "call"), ("outcome", "positive")],
        ),
        (
            format!("/accounts/{theirs}/snooze"),
            vec![("reason", "false_alarm"), ("days", "7")],
        ),
        (
            format!("/accounts/{theirs}/feedback"),
            vec![("verdict", "agree"), ("reason", "data_wrong")],
        ),
        (
            format!(
                "/tasks/{}/complete",
                task_id(&b.app, "Someone else's task").await
            ),
            vec![],
        ),
    ] {
        assert_eq!(b.csm.hx_post(&path, &form).await.status(), 404, "{path}");
    }
    assert_eq!(
        b.csm
            .get(&format!("/accounts/{theirs}/timeline"))
            .await
            .status(),
        404
    );

    // A manager sees their CSM's list and may act; not other teams'.
    let mine = b
        .manager
        .get(&format!("/worklist?csm={}", b.csm_user.id))
        .await;
    assert_eq!(mine.status(), 200);
    let html = mine.text().await.unwrap();
    assert!(html.contains("Alpha Co") && html.contains(">Complete<"));
    assert_eq!(
        b.manager
            .get(&format!("/worklist?csm={}", b.other.id))
            .await
            .status(),
        404
    );
    let task = task_id(&b.app, "Call the champion").await;
    assert_eq!(
        b.manager
            .hx_post(&format!("/tasks/{task}/complete"), &[])
            .await
            .status(),
        200
    );

    // An executive reads any worklist but cannot act.
    let (exec, _) = b.app.login_as(Role::Executive).await;
    let read = exec
        .get(&format!("/worklist?csm={}", b.csm_user.id))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        read.contains("Alpha Co")
            && !read.contains(">Complete<")
            && !read.contains("<summary>Snooze")
    );
    let a1 = id_of(&b.app, "A1").await;
    assert_eq!(
        exec.hx_post(
            &format!("/accounts/{a1}/feedback"),
            &[("verdict", "agree"), ("reason", "data_wrong")]
        )
        .await
        .status(),
        403
    );
}

#[sqlx::test]
async fn the_account_page_shows_history_with_weight_changes_and_the_workspace(pool: sqlx::PgPool) {
    let b = book(pool).await;
    let a1 = id_of(&b.app, "A1").await;
    // Two earlier scores under another scoring configuration.
    let today = OffsetDateTime::now_utc().date();
    let old_config: i64 = sqlx::query_scalar(
        "insert into health_configs (signals, red_max, yellow_max, created_by) values ('[]', 30, 70, 'test') returning id",
    )
    .fetch_one(&b.app.db)
    .await
    .unwrap();
    let new_config: i64 = sqlx::query_scalar(
        "insert into health_configs (signals, red_max, yellow_max, created_by) values ('[]', 30, 70, 'test') returning id",
    )
    .fetch_one(&b.app.db)
    .await
    .unwrap();
    sqlx::query(
        "insert into scores (account_id, day, health_score, band, signals, run_id, health_config_id)
         select account_id, day - d, 60 - d, 'yellow', '[]', run_id, $2 from scores, unnest(array[14, 7]) d where account_id = $1",
    )
    .bind(a1)
    .bind(old_config)
    .execute(&b.app.db)
    .await
    .unwrap();
    sqlx::query("update scores set health_config_id = $2 where account_id = $1 and day = $3")
        .bind(a1)
        .bind(new_config)
        .bind(today)
        .execute(&b.app.db)
        .await
        .unwrap();
    let html = b
        .csm
        .get(&format!("/accounts/{a1}?kind="))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("id=\"history\"") && html.contains(&format!("weights v{new_config}")),
        "the change of weights is marked"
    );
    assert!(
        html.contains("Band yellow → red"),
        "band changes are on the timeline"
    );
    assert!(html.contains("Trajectory: <strong>declining</strong>"));
    assert!(html.contains("id=\"intervention-form\"") && html.contains("id=\"feedback-form\""));
    assert!(
        html.contains("Call the champion"),
        "open tasks can be answered by an intervention"
    );
    assert!(
        html.contains("Strong relationship the data does not show"),
        "feedback reason codes"
    );
    assert!(html.contains("Last active"));
}

#[sqlx::test]
async fn admins_keep_the_reason_codes_csms_pick_from(pool: sqlx::PgPool) {
    let b = book(pool).await;
    let (admin, _) = b.app.login_as(Role::Admin).await;
    let added = admin
        .post_form(
            "/admin/reason-codes",
            &[
                ("code", "price_increase"),
                ("kind", "feedback"),
                ("label", "Reacting to a price increase"),
            ],
        )
        .await;
    assert_eq!(added.status(), 303);
    let again = admin
        .post_form(
            "/admin/reason-codes",
            &[
                ("code", "price_increase"),
                ("kind", "feedback"),
                ("label", "Twice"),
            ],
        )
        .await;
    assert_eq!(again.status(), 422);
    assert!(again.text().await.unwrap().contains("exists already"));
    let bad = admin
        .post_form(
            "/admin/reason-codes",
            &[("code", "Bad Code!"), ("kind", "feedback"), ("label", "x")],
        )
        .await;
    assert_eq!(bad.status(), 422);
    let a1 = id_of(&b.app, "A1").await;
    let page = b
        .csm
        .get(&format!("/accounts/{a1}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        page.contains("Reacting to a price increase"),
        "new codes reach the pickers"
    );
    let row = admin
        .hx_post("/admin/reason-codes/price_increase/toggle", &[])
        .await
        .text()
        .await
        .unwrap();
    assert!(row.contains("retired"));
    let page = b
        .csm
        .get(&format!("/accounts/{a1}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        !page.contains("Reacting to a price increase"),
        "retired codes leave them"
    );
    assert_eq!(b.app.audit_count("reason_code.create").await, 1);
    assert_eq!(b.app.audit_count("reason_code.retire").await, 1);
}

#[sqlx::test]
async fn a_churned_account_reads_as_a_former_customer(pool: sqlx::PgPool) {
    let b = book(pool).await;
    let a1 = id_of(&b.app, "A1").await;
    sqlx::query(
        "update accounts set status = 'churned', churned_on = current_date - 3, renewal_date = current_date + 80
         where id = $1",
    )
    .bind(a1)
    .execute(&b.app.db)
    .await
    .unwrap();
    let html = b
        .csm
        .get(&format!("/accounts/{a1}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(html.contains("This account churned on"), "{html}");
    assert!(
        html.contains("none: no longer a customer"),
        "no renewal countdown"
    );
    assert!(
        !html.contains("Is the prediction right?"),
        "no prediction to judge"
    );
    assert!(!html.contains("Snooze on the worklist"));
    assert!(
        html.contains("Log an intervention"),
        "a win-back call can still be logged"
    );
    let live = id_of(&b.app, "A2").await;
    let html = b
        .csm
        .get(&format!("/accounts/{live}"))
        .await
        .text()
        .await
        .unwrap();
    assert!(!html.contains("This account churned on") && html.contains("Is the prediction right?"));
}

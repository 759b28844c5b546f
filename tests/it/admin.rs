use keel::auth::Role;
use reqwest::StatusCode;
use sqlx::PgPool;

use crate::helpers::{PASSWORD, TestApp, location};

async fn user_count(app: &TestApp) -> i64 {
    sqlx::query_scalar("select count(*) from users")
        .fetch_one(&app.db)
        .await
        .unwrap()
}

#[sqlx::test]
async fn admin_creates_a_user_who_can_then_sign_in(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let (admin, _) = app.login_as(Role::Admin).await;
    let manager = app.create_user(Role::Manager).await;
    let manager_id = manager.id.to_string();
    let resp = admin
        .post_form(
            "/admin/users",
            &[
                ("email", "  New.CSM@Example.com "),
                ("name", "Nora New"),
                ("role", "csm"),
                ("manager_id", &manager_id),
                ("password", "a-good-password"),
            ],
        )
        .await;
    assert_eq!(resp.status(), StatusCode::SEE_OTHER);
    let page = admin.get(&location(&resp)).await.text().await.unwrap();
    assert!(page.contains("Added new.csm@example.com."));
    assert!(page.contains("Nora New"));
    assert!(
        page.contains("Test CS manager"),
        "manager shown in the list"
    );

    let client = app.client();
    let resp = client.login("new.csm@example.com", "a-good-password").await;
    assert_eq!(location(&resp), "/worklist");
    assert_eq!(app.audit_count("user.create").await, 3);
}

#[sqlx::test]
async fn invalid_new_user_is_refused_with_reasons_and_nothing_saved(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let (admin, existing) = app.login_as(Role::Admin).await;
    let sales = app.create_user(Role::Sales).await;
    let before = user_count(&app).await;
    let sales_id = sales.id.to_string();
    let resp = admin
        .post_form(
            "/admin/users",
            &[
                ("email", &existing.email),
                ("name", " "),
                ("role", "wizard"),
                ("manager_id", &sales_id),
                ("password", "short"),
            ],
        )
        .await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body = resp.text().await.unwrap();
    assert!(body.contains("already has an account"), "duplicate email");
    assert!(body.contains("A name is required."));
    assert!(body.contains("unknown role &#39;wizard&#39;"), "{body}");
    assert!(body.contains("Use at least 10 characters."));
    assert_eq!(user_count(&app).await, before);

    let resp = admin
        .post_form(
            "/admin/users",
            &[
                ("email", "ok@example.com"),
                ("name", "Ok"),
                ("role", "csm"),
                ("manager_id", &sales_id),
                ("password", "long-enough-pw"),
            ],
        )
        .await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        resp.text()
            .await
            .unwrap()
            .contains("not an active CS manager")
    );
    assert_eq!(user_count(&app).await, before);
}

#[sqlx::test]
async fn admin_changes_role_and_manager(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let (admin, _) = app.login_as(Role::Admin).await;
    let (csm_client, csm) = app.login_as(Role::Csm).await;
    let manager = app.create_user(Role::Manager).await;
    let path = format!("/admin/users/{}", csm.id);
    let manager_id = manager.id.to_string();
    let resp = admin
        .post_form(
            &path,
            &[
                ("name", "Casey Renamed"),
                ("role", "csm"),
                ("manager_id", &manager_id),
            ],
        )
        .await;
    assert_eq!(location(&resp), format!("{path}?saved=1"));
    let page = admin.get(&location(&resp)).await.text().await.unwrap();
    assert!(page.contains("Casey Renamed") && page.contains("Saved."));
    let stored: Option<uuid::Uuid> =
        sqlx::query_scalar("select manager_id from users where id = $1")
            .bind(csm.id)
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(stored, Some(manager.id));

    // A role change applies to the open session at once.
    admin
        .post_form(
            &path,
            &[
                ("name", "Casey Renamed"),
                ("role", "sales"),
                ("manager_id", ""),
            ],
        )
        .await;
    assert_eq!(
        csm_client.get("/worklist").await.status(),
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        csm_client.get("/opportunities").await.status(),
        StatusCode::OK
    );
    assert_eq!(app.audit_count("user.update").await, 2);
}

#[sqlx::test]
async fn admin_cannot_lock_themselves_out(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let (admin, me) = app.login_as(Role::Admin).await;
    let path = format!("/admin/users/{}", me.id);
    let resp = admin
        .post_form(&path, &[("name", "Me"), ("role", "csm")])
        .await;
    assert_eq!(resp.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        resp.text()
            .await
            .unwrap()
            .contains("cannot remove your own admin role")
    );
    let resp = admin.hx_post(&format!("{path}/deactivate"), &[]).await;
    assert_eq!(resp.status(), StatusCode::CONFLICT);
    assert!(
        resp.text()
            .await
            .unwrap()
            .contains("cannot deactivate your own account")
    );
    assert_eq!(admin.get("/admin/users").await.status(), StatusCode::OK);
}

#[sqlx::test]
async fn deactivation_signs_the_user_out_and_reactivation_lets_them_back(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let (admin, _) = app.login_as(Role::Admin).await;
    let (csm_client, csm) = app.login_as(Role::Csm).await;
    let resp = admin
        .hx_post(&format!("/admin/users/{}/deactivate", csm.id), &[])
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let row = resp.text().await.unwrap();
    assert!(
        row.starts_with(&format!("<tr id=\"user-{}\"", csm.id)),
        "htmx gets the row: {row}"
    );
    assert!(row.contains("deactivated") && row.contains("Re-activate"));

    assert!(location(&csm_client.get("/worklist").await).starts_with("/login"));
    assert_eq!(
        app.client().login(&csm.email, PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED
    );

    let resp = admin
        .hx_post(&format!("/admin/users/{}/activate", csm.id), &[])
        .await;
    assert!(resp.text().await.unwrap().contains("Deactivate"));
    assert_eq!(
        app.client().login(&csm.email, PASSWORD).await.status(),
        StatusCode::SEE_OTHER
    );
    assert_eq!(app.audit_count("user.deactivate").await, 1);
    assert_eq!(app.audit_count("user.activate").await, 1);
}

#[sqlx::test]
async fn password_reset_shows_a_new_password_once_and_signs_the_user_out(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let (admin, _) = app.login_as(Role::Admin).await;
    let (analyst_client, analyst) = app.login_as(Role::Analyst).await;
    let resp = admin
        .hx_post(&format!("/admin/users/{}/password", analyst.id), &[])
        .await;
    assert_eq!(resp.status(), StatusCode::OK);
    let html = resp.text().await.unwrap();
    let new_password = html
        .split("<code id=\"new-password\">")
        .nth(1)
        .and_then(|s| s.split("</code>").next())
        .expect("the new password is shown")
        .to_owned();
    assert!(new_password.len() >= 10);

    assert!(location(&analyst_client.get("/models").await).starts_with("/login"));
    let client = app.client();
    assert_eq!(
        client.login(&analyst.email, PASSWORD).await.status(),
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        location(&client.login(&analyst.email, &new_password).await),
        "/models"
    );
    let page = admin
        .get(&format!("/admin/users/{}", analyst.id))
        .await
        .text()
        .await
        .unwrap();
    assert!(
        !page.contains(&new_password),
        "the password is shown only once"
    );
    assert_eq!(app.audit_count("user.reset_password").await, 1);
}

#[sqlx::test]
async fn audit_log_filters_by_user_and_action(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let (admin, me) = app.login_as(Role::Admin).await;
    let (other_admin, other) = app.login_as(Role::Admin).await;
    let target = app.create_user(Role::Csm).await;
    admin
        .hx_post(&format!("/admin/users/{}/deactivate", target.id), &[])
        .await;
    other_admin
        .hx_post(&format!("/admin/users/{}/activate", target.id), &[])
        .await;

    let page = admin.get("/admin/audit").await.text().await.unwrap();
    assert!(page.contains("user.deactivate") && page.contains("user.activate"));
    assert!(page.contains(&format!("user:{}", target.id)));

    let mine = admin
        .get(&format!("/admin/audit?user={}", me.id))
        .await
        .text()
        .await
        .unwrap();
    assert!(mine.contains("user.deactivate"));
    assert!(!mine.contains("<code>user.activate</code>"));

    let fragment = admin
        .hx_get(&format!(
            "/admin/audit?user={}&action=user.activate",
            other.id
        ))
        .await;
    assert_eq!(fragment.headers()["vary"], "HX-Request");
    let fragment = fragment.text().await.unwrap();
    assert!(
        fragment.starts_with("<div id=\"audit-entries\">"),
        "htmx gets the table only"
    );
    assert!(fragment.contains(&other.email));
    assert!(!fragment.contains("user.deactivate"));

    let bad = admin.get("/admin/audit?user=not-a-uuid").await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
    assert!(bad.text().await.unwrap().contains("not a user id"));
}

#[sqlx::test]
async fn cli_adds_a_user_with_a_password_from_stdin(pool: PgPool) {
    use std::io::Write;
    use std::process::{Command, Stdio};

    let app = TestApp::spawn(pool).await;
    let options = app.db.connect_options();
    let url = format!(
        "postgres://postgres@{}:{}/{}",
        options.get_host(),
        options.get_port(),
        options.get_database().unwrap()
    );
    let run = |email: &str, password: &str| {
        let mut child = Command::new(env!("CARGO_BIN_EXE_keel"))
            .args([
                "user",
                "add",
                "--email",
                email,
                "--name",
                "Shell User",
                "--role",
                "executive",
                "--password-stdin",
            ])
            .env("DATABASE_URL", &url)
            .env("KEEL_LOG", "error")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        writeln!(child.stdin.take().unwrap(), "{password}").unwrap();
        child.wait_with_output().unwrap()
    };
    let out = run("shell@example.com", "from-the-shell-1");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("created user"));
    let resp = app
        .client()
        .login("shell@example.com", "from-the-shell-1")
        .await;
    assert_eq!(location(&resp), "/dashboard");

    let out = run("shell@example.com", "short");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("already has an account") && err.contains("at least 10"),
        "{err}"
    );
}

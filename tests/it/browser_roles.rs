//! Journeys in the real browser (driver in browser.rs): each role's home, the admin's users,
//! the analyst's upload and the executive's dashboard, without reloads.

use fantoccini::Locator;
use keel::auth::Role;
use serde_json::json;
use sqlx::PgPool;

use crate::browser::{Browser, TempDir};
use crate::helpers::{PASSWORD, TestApp};

#[sqlx::test]
async fn each_role_signs_in_and_lands_on_its_home(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let browser = Browser::start().await;
    for role in Role::ALL {
        let user = app.create_user(role).await;
        browser.sign_in(&app, &user.email, PASSWORD).await;
        browser.wait_for_path(role.home()).await;
        assert_eq!(browser.text(".role-badge").await, role.label());
        let nav = browser.text("header nav").await;
        assert_eq!(
            nav.contains("Users"),
            role == Role::Admin,
            "{role} nav: {nav}"
        );
        if role == Role::Analyst {
            // The pipeline runs arrive through htmx, under the strict Content-Security-Policy.
            assert!(browser.text("#runs").await.contains("No runs yet."));
        }
        browser.screenshot(&format!("home-{role}")).await;
        browser
            .client
            .find(Locator::Css(".whoami button"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        browser.wait_for_path("/login").await;
    }
    browser.close().await;
}

#[sqlx::test]
async fn admin_adds_and_deactivates_a_user_without_a_reload(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let admin = app.create_user(Role::Admin).await;
    let browser = Browser::start().await;
    let c = &browser.client;
    browser.sign_in(&app, &admin.email, PASSWORD).await;
    browser.wait_for_path("/admin/users").await;

    let form = c.find(Locator::Css("#new-user form")).await.unwrap();
    form.find(Locator::Css("input[name=email]"))
        .await
        .unwrap()
        .send_keys("browser.made@example.com")
        .await
        .unwrap();
    form.find(Locator::Css("input[name=name]"))
        .await
        .unwrap()
        .send_keys("Bea Browser")
        .await
        .unwrap();
    form.find(Locator::Css("input[name=password]"))
        .await
        .unwrap()
        .send_keys("browser-password-1")
        .await
        .unwrap();
    form.find(Locator::Css("button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let notice = browser.text(".alert.ok").await;
    assert_eq!(notice, "Added browser.made@example.com.");

    // Mark the page; a full reload would lose the mark. The user is deactivated on a phone,
    // where each user is a card with its button in reach.
    c.execute("window.keelMark = 'still here'", vec![])
        .await
        .unwrap();
    c.set_window_size(400, 900).await.unwrap();
    browser.assert_fits("users").await;
    let row = c
        .find(Locator::XPath(
            "//tr[td[text()='browser.made@example.com']]",
        ))
        .await
        .unwrap();
    row.find(Locator::Css("button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let badge = browser
        .element(Locator::XPath(
            "//tr[td[text()='browser.made@example.com']]//span[text()='deactivated']",
        ))
        .await;
    assert!(badge.is_ok(), "the row did not turn deactivated");
    let mark = c.execute("return window.keelMark", vec![]).await.unwrap();
    assert_eq!(
        mark,
        json!("still here"),
        "the page reloaded instead of swapping the row"
    );
    browser.screenshot("admin-users-400").await;
    c.set_window_size(1280, 900).await.unwrap();
    browser.screenshot("admin-users").await;
    browser.close().await;
}

#[sqlx::test]
async fn analyst_sees_why_a_file_is_refused_then_ingests_a_good_one(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let analyst = app.create_user(Role::Analyst).await;
    let dir = TempDir(std::env::temp_dir().join(format!("keel-upload-{}", uuid::Uuid::new_v4())));
    std::fs::create_dir_all(&dir.0).unwrap();
    let bad = dir.0.join("accounts-bad.csv");
    std::fs::write(
        &bad,
        "external_id,name,plan,seats,mrr,customer_since\nB-1,Beta,team,3,-5,2025-01-01\n",
    )
    .unwrap();
    let good = dir.0.join("accounts-good.csv");
    std::fs::write(
        &good,
        "external_id,name,plan,seats,mrr,customer_since\nB-1,Beta,team,3,500,2025-01-01\n",
    )
    .unwrap();

    let browser = Browser::start().await;
    browser.sign_in(&app, &analyst.email, PASSWORD).await;
    browser.wait_for_path("/models").await;
    for (file, expect) in [
        (&bad, "row 1, column mrr: negative amount -5"),
        (&good, "All 1 rows are valid."),
    ] {
        browser.upload(&app, file).await;
        let result = browser.text("#check-result").await;
        assert!(result.contains(expect), "{result}");
    }
    browser.screenshot("ingest-preview").await;
    browser.click(Locator::Css("form button.primary")).await;
    browser.wait_for_path("/ingest").await;
    let batches = browser.text("#batches").await;
    assert!(
        batches.contains("accepted") && batches.contains("rejected"),
        "{batches}"
    );
    browser.screenshot("ingest-batches").await;
    browser.close().await;
}

#[sqlx::test]
async fn the_executive_reads_the_dashboard_and_narrows_it_without_a_reload(pool: PgPool) {
    let b = crate::revenue::book(pool).await;
    let exec = b.app.create_user(Role::Executive).await;
    let browser = Browser::start().await;
    browser.sign_in(&b.app, &exec.email, PASSWORD).await;
    browser.wait_for_path("/dashboard").await;
    assert!(browser.text("#kpis").await.contains("75.0 %"));
    // Mark the document: a full reload would lose the mark.
    browser
        .client
        .execute(
            "document.body.dataset.loaded = 'once'; return null;",
            vec![],
        )
        .await
        .unwrap();
    browser
        .client
        .find(Locator::Css("select[name=window] option[value=quarter]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser.wait_for_text("Trailing 3 months: 2026-04-01").await;
    browser
        .client
        .find(Locator::Css("select[name=segment] option[value=smb]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser.wait_for_text("segment=smb").await;
    let url = browser.client.current_url().await.unwrap();
    assert!(
        url.query().unwrap_or("").contains("window=quarter"),
        "{url}"
    );
    let mark = browser
        .client
        .execute("return document.body.dataset.loaded || null;", vec![])
        .await
        .unwrap();
    assert_eq!(mark, json!("once"), "the filters swapped the page in place");
    browser.screenshots("executive-dashboard").await;
    browser.close().await;
}

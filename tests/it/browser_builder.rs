//! The playbook builder in a real browser: a manager ticks conditions, adds a step with the
//! button, removes another, previews and saves.

use fantoccini::Locator;
use serde_json::Value;
use sqlx::PgPool;

use crate::browser::Browser;
use crate::helpers::{PASSWORD, TestApp};

#[sqlx::test]
async fn a_manager_builds_a_playbook_with_added_and_removed_steps(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let manager = app.create_user(keel::auth::Role::Manager).await;
    let browser = Browser::start().await;
    let c = &browser.client;
    browser.sign_in(&app, &manager.email, PASSWORD).await;
    c.goto(&app.url("/playbooks/new")).await.unwrap();
    let field = |css: &'static str| async move { c.find(Locator::Css(css)).await.unwrap() };
    field("input[name=name]")
        .await
        .send_keys("Red accounts, two calls")
        .await
        .unwrap();
    field("input[name=bands][value=red]")
        .await
        .click()
        .await
        .unwrap();

    // Add two steps, fill the first added one, then remove the second added one.
    let add = field("button[data-add-from]").await;
    add.click().await.unwrap();
    add.click().await.unwrap();
    let steps = c
        .find_all(Locator::Css("#steps fieldset.step"))
        .await
        .unwrap();
    assert_eq!(steps.len(), 3);
    let title = steps[1]
        .find(Locator::Css("input[name=step_title]"))
        .await
        .unwrap();
    title.send_keys("Second call").await.unwrap();
    steps[2]
        .find(Locator::Css("button[data-remove-closest]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    assert_eq!(
        c.find_all(Locator::Css("#steps fieldset.step"))
            .await
            .unwrap()
            .len(),
        2
    );
    browser.screenshots("playbook-builder").await;

    c.find(Locator::XPath(
        "//button[normalize-space()=\"Preview today's matches\"]",
    ))
    .await
    .unwrap()
    .click()
    .await
    .unwrap();
    let preview = browser.element(Locator::Css("#preview *")).await;
    assert!(preview.is_ok(), "the preview answered");

    field("#playbook-form button[type=submit]")
        .await
        .click()
        .await
        .unwrap();
    browser.wait_for_path("/playbooks").await;
    let (rule, steps): (Value, Value) =
        sqlx::query_as("select rule, steps from playbooks where name = 'Red accounts, two calls'")
            .fetch_one(&app.db)
            .await
            .unwrap();
    assert_eq!(rule["bands"], serde_json::json!(["red"]));
    let titles: Vec<&str> = steps
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["title"].as_str().unwrap())
        .collect();
    assert_eq!(titles, ["Call the account", "Second call"]);
    browser.close().await;
}

//! A new customer's first afternoon in the browser: a CRM export with its own headers is
//! mapped column by column and ingested, then the product's own event names are mapped,
//! previewed (htmx) and saved.

use fantoccini::Locator;
use keel::auth::Role;
use keel::ingest::Entity;
use sqlx::PgPool;

use crate::browser::Browser;
use crate::helpers::{PASSWORD, TestApp};

#[sqlx::test]
async fn an_analyst_maps_a_crm_export_and_the_products_events(pool: PgPool) {
    let app = TestApp::spawn(pool).await;
    let analyst = app.create_user(Role::Analyst).await;
    let file = std::env::temp_dir().join(format!("crm-{}.csv", uuid::Uuid::new_v4()));
    std::fs::write(
        &file,
        "Account ID,Account Name,Tier,Customer Since,Owner Region\n\
         S-1,Solar Ltd,growth,2025-06-01,EMEA\nS-2,Tidal Inc,starter,2025-09-15,AMER\n",
    )
    .unwrap();

    let browser = Browser::start().await;
    let c = &browser.client;
    browser.sign_in(&app, &analyst.email, PASSWORD).await;
    browser.wait_for_path("/models").await;
    browser.upload(&app, &file).await;
    let form = browser.text("#map-columns").await;
    assert!(form.contains("Map the file's columns"), "{form}");
    // The names were guessed; the plan sits in "Tier", which only a person knows.
    c.find(Locator::Css("select[name='col.plan']"))
        .await
        .unwrap()
        .select_by_value("Tier")
        .await
        .unwrap();
    let name = c
        .find(Locator::Css("input[name=mapping_name]"))
        .await
        .unwrap();
    name.clear().await.unwrap();
    name.send_keys("Salesforce accounts").await.unwrap();
    browser.screenshots("ingest-map-columns").await;
    browser
        .click(Locator::Css("#map-columns button.primary"))
        .await;
    browser.wait_for_text("All 2 rows are valid.").await;
    assert!(
        browser
            .text("#mapping-used")
            .await
            .contains("Salesforce accounts")
    );
    browser
        .click(Locator::Css("form[action$='/confirm'] button"))
        .await;
    browser.wait_for_path("/ingest").await;
    assert!(browser.text("#batches").await.contains("accepted"));

    // The product's events, under its own names.
    app.load_csv(
        Entity::Events,
        "account_id,user_id,event_type,timestamp\n\
         S-1,ana,deal_created,2026-11-20T09:00:00Z\nS-1,ben,note_posted,2026-11-20T10:00:00Z\n\
         S-2,cy,deal_created,2026-11-21T09:00:00Z\nS-2,cy,sync_ping,2026-11-21T09:05:00Z\n"
            .into(),
    )
    .await;
    c.goto(&app.url("/event-types")).await.unwrap();
    let table = browser.text("#event-types").await;
    assert!(
        table.contains("deal_created") && table.contains("activity only"),
        "{table}"
    );
    let rules = c.find(Locator::Css("textarea[name=rules]")).await.unwrap();
    rules.clear().await.unwrap();
    rules
        .send_keys("deal_* = core, module:deals\nnote_posted = collaboration, module:notes\nsync_* = ignored\n")
        .await
        .unwrap();
    browser
        .click(Locator::XPath(
            "//button[contains(., 'Preview the features')]",
        ))
        .await;
    let changes = browser.text("#preview-changes").await;
    assert!(
        changes.contains("deal_created: activity only → core, module deals"),
        "{changes}"
    );
    assert_eq!(
        c.current_url().await.unwrap().path(),
        "/event-types",
        "the preview swaps in place"
    );
    browser.screenshots("event-types-preview").await;
    browser
        .click(Locator::XPath(
            "//button[contains(., 'Save and recompute history')]",
        ))
        .await;
    browser.wait_for_text("all history was recomputed").await;
    let table = browser.text("#event-types").await;
    assert!(
        table.contains("core, module deals") && table.contains("ignored"),
        "{table}"
    );
    browser.screenshots("event-types").await;
    browser.close().await;
    let _ = std::fs::remove_file(&file);
}

//! The hand-off in a real browser: a CSM hands an account to sales from the account page,
//! the sales rep accepts it and marks it won, and neither page reloads.

use fantoccini::Locator;
use sqlx::PgPool;

use crate::browser::Browser;
use crate::handoff::desk;
use crate::helpers::PASSWORD;
use crate::worklist::id_of;

#[sqlx::test]
async fn a_csm_hands_over_and_sales_accepts_and_wins_without_a_reload(pool: PgPool) {
    let d = desk(pool).await;
    let h1 = id_of(&d.app, "H1").await;
    let browser = Browser::start().await;
    let c = &browser.client;
    browser.sign_in(&d.app, &d.csm_user.email, PASSWORD).await;
    browser.wait_for_path("/worklist").await;
    c.goto(&d.app.url(&format!("/accounts/{h1}")))
        .await
        .unwrap();
    // A marker that survives only if the page is never reloaded.
    c.execute("window.keelMarker = 'kept'", vec![])
        .await
        .unwrap();
    let note = browser
        .element(Locator::Css("#hand-off textarea[name=note]"))
        .await
        .unwrap();
    note.send_keys("Two new teams onboarding; the sponsor asked for a quote.")
        .await
        .unwrap();
    browser.screenshots("handoff-account-card").await;
    c.find(Locator::Css("#hand-off button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser.wait_for_text("Handed to sales").await;
    assert!(
        browser
            .text("#expansion")
            .await
            .contains("Awaiting acceptance")
    );
    let marker = c.execute("return window.keelMarker", vec![]).await.unwrap();
    assert_eq!(marker, "kept", "the account page reloaded");
    c.find(Locator::Css(".whoami button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser.wait_for_path("/login").await;

    browser.sign_in(&d.app, &d.sales_user.email, PASSWORD).await;
    browser.wait_for_path("/opportunities").await;
    assert!(
        browser
            .text("#open-opportunities")
            .await
            .contains("Hotel One")
    );
    browser.screenshots("sales-home").await;
    c.execute("window.keelMarker = 'kept'", vec![])
        .await
        .unwrap();
    let id: i64 = sqlx::query_scalar("select id from opportunities")
        .fetch_one(&d.app.db)
        .await
        .unwrap();
    let card = format!("#opp-{id}");
    c.find(Locator::Css(&format!("{card} button.primary")))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser.wait_for_text("First contact made").await;
    c.find(Locator::Css(&format!("{card} input[name=closed_arr]")))
        .await
        .unwrap()
        .send_keys("7200")
        .await
        .unwrap();
    c.find(Locator::Css(&format!(
        "{card} form[hx-post$='/win'] button"
    )))
    .await
    .unwrap()
    .click()
    .await
    .unwrap();
    browser.wait_for_text("closed at $7,200").await;
    assert!(browser.text(&card).await.contains("Won"));
    let marker = c.execute("return window.keelMarker", vec![]).await.unwrap();
    assert_eq!(marker, "kept", "the sales home reloaded");
    browser.screenshots("sales-home-won").await;
    browser.close().await;
}

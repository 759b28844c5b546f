//! An experiment in a real browser: an analyst designs one, sees what it can detect, saves
//! and starts it, and after the next daily run sees the accounts assigned.

use fantoccini::Locator;
use sqlx::PgPool;

use crate::browser::Browser;
use crate::experiments::{lab, run_day};
use crate::helpers::PASSWORD;

#[sqlx::test]
async fn an_analyst_designs_starts_and_sees_accounts_assigned(pool: PgPool) {
    let lab = lab(pool, 120).await;
    let browser = Browser::start().await;
    let c = &browser.client;
    browser
        .sign_in(&lab.app, &lab.analyst_user.email, PASSWORD)
        .await;
    c.goto(&lab.app.url("/experiments")).await.unwrap();
    c.find(Locator::LinkText("New experiment"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser.wait_for_path("/experiments/new").await;
    c.find(Locator::Css("input[name=name]"))
        .await
        .unwrap()
        .send_keys("Outreach for high-risk accounts")
        .await
        .unwrap();
    let rule = c.find(Locator::Css("textarea[name=rule]")).await.unwrap();
    rule.clear().await.unwrap();
    rule.send_keys(r#"{"tiers": ["high", "medium"]}"#)
        .await
        .unwrap();
    let minimum = c.find(Locator::Css("input[name=minimum]")).await.unwrap();
    minimum.clear().await.unwrap();
    minimum.send_keys("20").await.unwrap();
    c.find(Locator::XPath(
        "//button[contains(., 'What can it detect?')]",
    ))
    .await
    .unwrap()
    .click()
    .await
    .unwrap();
    browser.wait_for_text("Minimum detectable difference").await;
    assert!(
        browser
            .text("#detectable")
            .await
            .contains("80 accounts match today")
    );
    browser.screenshots("experiment-design").await;
    c.find(Locator::Css("#experiment-form button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser
        .wait_for_text("Start: assign from the next daily run")
        .await;
    c.find(Locator::XPath("//button[contains(., 'Start: assign')]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    browser.wait_for_text("Conclude").await;
    run_day(&lab, lab.today).await;
    c.refresh().await.unwrap();
    browser.element(Locator::Css("#arms")).await.unwrap();
    // (Header cells are upper-cased by the style sheet.)
    let arms = browser.text("#arms").await.to_lowercase();
    // Each variant's row shows the accounts the run assigned to it.
    let counts: Vec<(String, i64)> = sqlx::query_as(
        "select v.name, count(*) from experiment_assignments x join experiment_variants v on v.id = x.variant_id
         group by v.name, v.position order by v.position",
    )
    .fetch_all(&lab.app.db)
    .await
    .unwrap();
    assert_eq!(counts.iter().map(|c| c.1).sum::<i64>(), 80);
    for ((name, n), share) in counts.iter().zip([33, 34, 33]) {
        let row = format!("{} no play {share} % {n} ", name.to_lowercase());
        assert!(arms.contains(&row), "{row}: {arms}");
    }
    browser.screenshots("experiment-running").await;
    browser.close().await;
}

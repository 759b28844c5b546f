//! The worklist from the keyboard, in a real browser: j and k move through the tasks and
//! accounts, c completes the current task, l opens the current account's log form.

use fantoccini::Locator;
use sqlx::PgPool;

use crate::browser::Browser;
use crate::helpers::PASSWORD;

/// Presses `keys` on whatever has the focus (the page itself, here).
async fn press(browser: &Browser, keys: &str) {
    browser
        .client
        .active_element()
        .await
        .unwrap()
        .send_keys(keys)
        .await
        .unwrap();
}

async fn current_row_text(browser: &Browser) -> String {
    browser.text("tr[aria-current=true]").await
}

#[sqlx::test]
async fn a_csm_completes_a_task_and_opens_a_log_form_from_the_keyboard(pool: PgPool) {
    let b = crate::worklist::book(pool).await;
    let browser = Browser::start().await;
    let c = &browser.client;
    browser.sign_in(&b.app, &b.csm_user.email, PASSWORD).await;
    browser.wait_for_path("/worklist").await;

    // The tasks come first, most urgent first: the overdue renewal offer, then the call.
    press(&browser, "j").await;
    assert!(
        current_row_text(&browser)
            .await
            .contains("Send the renewal offer")
    );
    press(&browser, "jjk").await;
    assert!(
        current_row_text(&browser)
            .await
            .contains("Call the champion")
    );
    browser.screenshot("worklist-keys").await;

    press(&browser, "c").await;
    let done = browser
        .element(Locator::XPath("//table[@id='tasks']//td[text()='Done.']"))
        .await;
    assert!(done.is_ok(), "c did not complete the current task");
    let open = browser.text("#tasks").await;
    assert!(open.contains("Send the renewal offer") && open.contains("Quarterly review"));

    // Past the two tasks still open, the first account: l opens its log form.
    press(&browser, "jjj").await;
    let row = c.find(Locator::Css("tr[aria-current=true]")).await.unwrap();
    let account_row = row.attr("id").await.unwrap().unwrap();
    assert!(account_row.starts_with("account-"), "{account_row}");
    press(&browser, "l").await;
    let form = browser
        .element(Locator::Css(
            "tr[aria-current=true] details[open] form [name=notes]",
        ))
        .await;
    assert!(
        form.is_ok(),
        "l did not open the log form of the current account"
    );

    // Keys typed into a field stay in the field: the current row does not move.
    let notes = form.unwrap();
    notes.send_keys("jjj").await.unwrap();
    assert_eq!(notes.prop("value").await.unwrap().as_deref(), Some("jjj"));
    let still = c.find(Locator::Css("tr[aria-current=true]")).await.unwrap();
    assert_eq!(still.attr("id").await.unwrap(), Some(account_row));
    browser.close().await;
}

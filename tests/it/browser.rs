//! Journeys in a real headless Chromium (Debian's `chromium` + `chromium-driver`),
//! driven over WebDriver. Screenshots land in `target/screenshots/`.

use std::io::{BufRead, BufReader};
use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;
use sqlx::PgPool;

use crate::helpers::{PASSWORD, TestApp};

pub struct Browser {
    pub client: Client,
    driver: Child,
    _profile: TempDir,
}

/// A test that panics never reaches `close()`: chromedriver leads its own process group,
/// so dropping the browser ends it and the Chromium it started, whatever happened.
impl Drop for Browser {
    fn drop(&mut self) {
        let group = format!("-{}", self.driver.id());
        let _ = Command::new("kill").args(["-KILL", "--", &group]).status();
        let _ = self.driver.wait();
    }
}

pub struct TempDir(pub PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

impl Browser {
    pub async fn start() -> Browser {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut driver = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .expect("chromedriver not found: install Debian's chromium-driver (.ci/run does)");
        let stdout = driver.stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        // chromedriver announces when it accepts connections.
        loop {
            match lines.next() {
                Some(Ok(line)) if line.contains("started successfully") => break,
                Some(Ok(_)) => continue,
                other => panic!("chromedriver did not start: {other:?}"),
            }
        }
        std::thread::spawn(move || lines.for_each(drop));
        let profile =
            TempDir(std::env::temp_dir().join(format!("keel-chrome-{}", uuid::Uuid::new_v4())));
        let caps = json!({
            "goog:chromeOptions": {
                "binary": "/usr/bin/chromium",
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu",
                    "--disable-background-networking", "--disable-component-update",
                    "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
                    "--window-size=1280,900",
                    format!("--user-data-dir={}", profile.0.display()),
                ]
            }
        });
        let serde_json::Value::Object(caps) = caps else {
            unreachable!()
        };
        let client = ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
            .capabilities(caps)
            .connect(&format!("http://127.0.0.1:{port}"))
            .await
            .expect("starting a Chromium session");
        Browser {
            client,
            driver,
            _profile: profile,
        }
    }

    pub async fn screenshot(&self, name: &str) {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/screenshots");
        std::fs::create_dir_all(&dir).unwrap();
        let png = self.client.screenshot().await.unwrap();
        std::fs::write(dir.join(format!("{name}.png")), png).unwrap();
    }

    pub async fn sign_in(&self, app: &TestApp, email: &str, password: &str) {
        let c = &self.client;
        c.goto(&app.url("/login")).await.unwrap();
        c.find(Locator::Css("input[name=email]"))
            .await
            .unwrap()
            .send_keys(email)
            .await
            .unwrap();
        c.find(Locator::Css("input[name=password]"))
            .await
            .unwrap()
            .send_keys(password)
            .await
            .unwrap();
        c.find(Locator::Css("form button[type=submit]"))
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
        // Signed in once the browser has left the sign-in page: a test that navigates
        // before then races the session cookie.
        for _ in 0..200 {
            if c.current_url().await.unwrap().path() != "/login" {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the browser stayed on the sign-in page");
    }

    pub async fn wait_for_path(&self, path: &str) {
        for _ in 0..100 {
            if self.client.current_url().await.unwrap().path() == path {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!(
            "browser never reached {path}: at {}",
            self.client.current_url().await.unwrap()
        );
    }

    /// The element `locator` finds, waiting up to five seconds for it to appear.
    pub async fn element(
        &self,
        locator: Locator<'_>,
    ) -> Result<fantoccini::elements::Element, fantoccini::error::CmdError> {
        self.client
            .wait()
            .at_most(Duration::from_secs(5))
            .for_element(locator)
            .await
    }

    pub async fn text(&self, css: &str) -> String {
        self.element(Locator::Css(css))
            .await
            .unwrap()
            .text()
            .await
            .unwrap()
    }

    /// Clicks the element the locator finds.
    pub async fn click(&self, locator: Locator<'_>) {
        self.client
            .find(locator)
            .await
            .unwrap()
            .click()
            .await
            .unwrap();
    }

    /// Uploads `file` on the ingestion page (as whatever the form's default entity is) and
    /// asks for its check.
    pub async fn upload(&self, app: &TestApp, file: &std::path::Path) {
        self.client.goto(&app.url("/ingest")).await.unwrap();
        self.client
            .find(Locator::Css("input[type=file]"))
            .await
            .unwrap()
            .send_keys(&file.display().to_string())
            .await
            .unwrap();
        self.click(Locator::Css("form[enctype] button[type=submit]"))
            .await;
    }

    /// Screenshots at a desktop and a phone width, as `{name}-1440.png` and `{name}-400.png`.
    pub async fn screenshots(&self, name: &str) {
        for width in [1440, 400] {
            self.client.set_window_size(width, 900).await.unwrap();
            tokio::time::sleep(Duration::from_millis(200)).await;
            self.screenshot(&format!("{name}-{width}")).await;
        }
        self.client.set_window_size(1280, 900).await.unwrap();
    }

    /// On the window as it is: the page does not scroll sideways, nor does the table `id`,
    /// and every button in the table shows in full.
    pub async fn assert_fits(&self, id: &str) {
        let fits = self
            .client
            .execute(
                "const t = document.getElementById(arguments[0]);
                 const edge = t.getBoundingClientRect().right;
                 return [document.documentElement.scrollWidth <= document.documentElement.clientWidth,
                         t.scrollWidth <= t.clientWidth,
                         [...t.querySelectorAll('button')].every(b => b.getBoundingClientRect().right <= edge)]",
                vec![json!(id)],
            )
            .await
            .unwrap();
        assert_eq!(
            fits,
            json!([true, true, true]),
            "page, #{id}, its buttons fit"
        );
    }

    /// Waits until the page's text contains `text`.
    pub async fn wait_for_text(&self, text: &str) {
        for _ in 0..100 {
            if self.client.source().await.unwrap().contains(text) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the page never showed {text:?}");
    }

    /// Ends the WebDriver session cleanly; dropping the browser then stops the processes.
    pub async fn close(self) {
        let _ = self.client.clone().close().await;
    }
}

#[sqlx::test]
async fn a_csm_works_the_morning_from_the_worklist_and_the_account_page(pool: PgPool) {
    let b = crate::worklist::book(pool).await;
    let browser = Browser::start().await;
    let c = &browser.client;
    browser.sign_in(&b.app, &b.csm_user.email, PASSWORD).await;
    browser.wait_for_path("/worklist").await;
    c.execute("window.keelMark = 'still here'", vec![])
        .await
        .unwrap();
    let still_here = || async {
        let mark = c.execute("return window.keelMark", vec![]).await.unwrap();
        assert_eq!(mark, json!("still here"), "the page reloaded");
    };

    // Filter: only yellow accounts, and the URL says so.
    c.find(Locator::Css(
        "#filters select[name=band] option[value=yellow]",
    ))
    .await
    .unwrap()
    .click()
    .await
    .unwrap();
    let filtered = browser
        .element(Locator::XPath(
            "//section[@id='book' and not(.//a[text()='Alpha Co'])]//a[text()='Bravo Ltd']",
        ))
        .await;
    assert!(filtered.is_ok(), "the list did not filter");
    assert!(
        c.current_url()
            .await
            .unwrap()
            .query()
            .unwrap_or("")
            .contains("band=yellow")
    );
    still_here().await;

    // On a phone the tasks fit the screen: nothing scrolls sideways, every Complete button
    // shows in full. The task is completed there.
    c.set_window_size(400, 900).await.unwrap();
    browser.assert_fits("tasks").await;

    // Complete a task inline; its countdown was ticking in the browser.
    let countdown = browser.text("#tasks time.countdown").await;
    assert!(
        countdown.starts_with("overdue by") || countdown.starts_with("due in"),
        "{countdown}"
    );
    let row = c
        .find(Locator::XPath("//tr[td[contains(., 'Call the champion')]]"))
        .await
        .unwrap();
    row.find(Locator::Css("button"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let done = browser
        .element(Locator::XPath("//table[@id='tasks']//td[text()='Done.']"))
        .await;
    assert!(done.is_ok(), "the task row did not turn done");
    still_here().await;
    browser.screenshot("csm-worklist-400").await;
    c.set_window_size(1280, 900).await.unwrap();
    browser.screenshot("csm-worklist").await;

    // On the account page: log an intervention, then leave feedback, without reloads.
    let a1 = crate::worklist::id_of(&b.app, "A1").await;
    c.goto(&b.app.url(&format!("/accounts/{a1}")))
        .await
        .unwrap();
    c.execute("window.keelMark = 'still here'", vec![])
        .await
        .unwrap();
    // The timeline, last on the page, loads once scrolled into view.
    c.execute(
        "document.getElementById('timeline').scrollIntoView()",
        vec![],
    )
    .await
    .unwrap();
    let revealed = browser.element(Locator::Css("#timeline nav.filters")).await;
    assert!(
        revealed.is_ok(),
        "the timeline did not load when scrolled to"
    );
    let form = c.find(Locator::Css("#intervention-form")).await.unwrap();
    form.find(Locator::Css("textarea[name=notes]"))
        .await
        .unwrap()
        .send_keys("Walked the champion through the new dashboards")
        .await
        .unwrap();
    form.find(Locator::Css("button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    assert!(
        browser
            .text("#act-result .alert")
            .await
            .starts_with("Logged call (positive)")
    );
    let refreshed = browser
        .element(Locator::XPath(
            "//section[@id='timeline']//*[contains(., 'Walked the champion')]",
        ))
        .await;
    assert!(
        refreshed.is_ok(),
        "the timeline did not show the intervention"
    );
    let feedback = c.find(Locator::Css("#feedback-form")).await.unwrap();
    feedback
        .find(Locator::Css(
            "select[name=verdict] option[value=false_positive]",
        ))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    feedback
        .find(Locator::Css("button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    let thanks = browser
        .element(Locator::XPath(
            "//div[@id='act-result']//p[contains(., 'feedback recorded (false positive)')]",
        ))
        .await;
    assert!(thanks.is_ok(), "feedback was not acknowledged");
    still_here().await;
    browser.screenshot("csm-account").await;
    browser.close().await;
}

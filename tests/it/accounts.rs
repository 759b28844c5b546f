//! The account list: latest health and churn risk beside each account, sortable columns that
//! keep the filters, and the total.

use crate::worklist::book;

fn order(html: &str, names: &[&str]) -> Vec<usize> {
    names
        .iter()
        .map(|n| html.find(n).unwrap_or_else(|| panic!("{n} in {html}")))
        .collect()
}

fn ascending(at: &[usize]) -> bool {
    at.windows(2).all(|w| w[0] < w[1])
}

#[sqlx::test]
async fn the_list_shows_scores_sorts_by_any_measure_and_counts(pool: sqlx::PgPool) {
    let b = book(pool).await;
    let html = b.csm.get("/accounts").await.text().await.unwrap();
    assert!(html.contains("4 accounts"), "the CSM's book: {html}");
    assert!(
        html.contains(">25</span>") && html.contains("70.0 %"),
        "Alpha's scores"
    );
    let sorted = |sort: &'static str| {
        let csm = &b.csm;
        async move {
            let page = csm.get(&format!("/accounts?sort={sort}")).await;
            assert_eq!(page.status(), 200);
            page.text().await.unwrap()
        }
    };
    // Health 25, 55, 60, 80; churn 70 %, 40 %, 20 %, 5 %.
    let by = ["Alpha Co", "Bravo Ltd", "Delta LLC", "Charlie Inc"];
    assert!(ascending(&order(&sorted("health").await, &by)));
    assert!(ascending(&order(&sorted("churn").await, &by)));
    // MRR 5000, 2000, 1000, 300.
    let arr = sorted("arr").await;
    assert!(ascending(&order(
        &arr,
        &["Charlie Inc", "Alpha Co", "Bravo Ltd", "Delta LLC"]
    )));
    assert!(
        arr.contains("aria-sort=\"descending\""),
        "the column in force is marked"
    );
    // Bravo renews in 20 days, the others in 200.
    assert!(ascending(&order(
        &sorted("renewal").await,
        &["Bravo Ltd", "Alpha Co", "Charlie Inc", "Delta LLC"]
    )));
    // A filter keeps the order, and the headings keep the filter.
    let filtered = b
        .csm
        .get("/accounts?q=o&sort=arr")
        .await
        .text()
        .await
        .unwrap();
    assert!(
        filtered
            .contains("href=\"/accounts?q=o&#38;segment=&#38;status=&#38;sort=health&#38;page=0\""),
        "{filtered}"
    );
    assert!(filtered.contains("name=\"sort\" value=\"arr\""));
    // A former customer shows no churn risk and no renewal, and sorts after the live ones.
    sqlx::query(
        "update accounts set status = 'churned', churned_on = current_date where name = 'Alpha Co'",
    )
    .execute(&b.app.db)
    .await
    .unwrap();
    let churn = sorted("churn").await;
    assert!(
        !churn.contains("70.0 %") && churn.contains("Churned"),
        "{churn}"
    );
    assert!(ascending(&order(
        &churn,
        &["Bravo Ltd", "Delta LLC", "Charlie Inc", "Alpha Co"]
    )));
    let bad = b.csm.get("/accounts?sort=vibes").await;
    assert_eq!(bad.status(), 400);
    assert!(
        bad.text().await.unwrap().contains("<nav"),
        "the styled page"
    );
}

#[sqlx::test]
async fn the_account_page_lists_contacts_champions_first_and_billing_newest_first(
    pool: sqlx::PgPool,
) {
    use keel::auth::Role;
    use keel::ingest::Entity;
    let app = crate::helpers::TestApp::spawn(pool.clone()).await;
    let today = time::OffsetDateTime::now_utc().date();
    let ago = |n: i64| today - time::Duration::days(n);
    app.load_csv(
        Entity::Accounts,
        "external_id,name,plan,seats,mrr,customer_since\nA-1,Acme,team,5,500,2025-01-01\n".into(),
    )
    .await;
    app.load_csv(
        Entity::Contacts,
        "account_id,external_id,name,email,title,champion,user_id\n\
         A-1,C-1,Ann Lee,ann@acme.example,Ops,false,u1\n\
         A-1,C-2,Zoe Park,zoe@acme.example,CTO,true,u2\n\
         A-1,C-3,Bob Ray,bob@acme.example,CFO,false,\n"
            .into(),
    )
    .await;
    // Ann used the product ten and three days ago, Zoe three days ago and yesterday, Bob never
    // (no user id). Three days ago the two of them used three feature areas between them (the
    // boards, Gantt charts and reports), the boards both.
    app.load_csv(
        Entity::Events,
        format!(
            "account_id,user_id,event_type,timestamp,count\n\
             A-1,u1,task_created,{ten}T09:00:00Z,2\nA-1,u1,task_created,{three}T09:00:00Z,1\n\
             A-1,u1,board_viewed,{three}T09:00:00Z,1\nA-1,u1,gantt_opened,{three}T09:00:00Z,1\n\
             A-1,u2,board_moved,{three}T10:00:00Z,1\nA-1,u2,report_viewed,{three}T10:00:00Z,1\n\
             A-1,u2,task_created,{one}T09:00:00Z,5\n",
            ten = ago(10),
            three = ago(3),
            one = ago(1)
        ),
    )
    .await;
    // Two billing periods: an upgrade from 5 to 8 seats, newest shown first.
    app.load_csv(
        Entity::Subscriptions,
        "account_id,period_start,period_end,plan,seats,mrr\n\
         A-1,2026-09-01,2026-10-01,team,5,500\nA-1,2026-10-01,2026-11-01,business,8,1200\n"
            .into(),
    )
    .await;
    let account = crate::worklist::id_of(&app, "A-1").await;
    let (admin, _) = app.login_as(Role::Admin).await;
    let page = admin.get(&format!("/accounts/{account}")).await;
    let html = page.text().await.unwrap();
    let start = html.find("id=\"contacts\"").expect("the contacts table");
    let table = &html[start..start + html[start..].find("</table>").unwrap()];
    assert!(ascending(&order(
        table,
        &["Zoe Park", "Ann Lee", "Bob Ray"]
    )));
    assert!(
        table.contains(&format!("{} (1 day ago)", ago(1))),
        "{table}"
    );
    assert!(
        table.contains(&format!("{} (3 days ago)", ago(3))),
        "{table}"
    );
    assert!(!table.contains(&ago(10).to_string()), "the newest day only");
    assert!(table.contains("<td>never</td>"), "{table}");
    // Four person-days over thirty days; eight core actions (2 + 1 + 5 task_created).
    assert!(
        html.contains(
            "Last 30 days: 0.1 active users a day, 8 core actions, up to 3 feature areas in a day."
        ),
        "{html}"
    );
    let billing =
        &html[html.find("Subscription periods").unwrap()..html.find("id=\"contacts\"").unwrap()];
    assert!(
        ascending(&order(
            billing,
            &[
                "<td>2026-10-01</td><td>2026-11-01</td><td>Business</td><td>8</td><td>$1,200</td>",
                "<td>2026-09-01</td><td>2026-10-01</td><td>Team</td><td>5</td><td>$500</td>",
            ]
        )),
        "{billing}"
    );
}

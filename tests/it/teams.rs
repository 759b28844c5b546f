//! The team page keeps a manager's figures between requests, and shows at once whatever
//! changed what it counts, whoever wrote it: here plain SQL, as the worker's sweeps, the CLI
//! or another web server would.

use crate::worklist::{book, id_of};

#[sqlx::test]
async fn the_team_page_shows_every_writers_change_at_once(pool: sqlx::PgPool) {
    let b = book(pool.clone()).await;
    let csm = b.csm_user.id;
    let a1 = id_of(&b.app, "A1").await;
    let team = || async { b.manager.get("/team?days=30").await.text().await.unwrap() };
    // The CSM's row: due, on time, adherence, breached, open now, escalations.
    let row = |html: &str| {
        let after = html
            .split(&format!("csm={csm}\">"))
            .nth(1)
            .unwrap_or_else(|| panic!("the CSM's row in {html}"));
        let cells = &after[after.find("</a></td><td>").unwrap() + 13..];
        cells[..cells.find("</td></tr>").unwrap()].replace("</td><td>", " | ")
    };
    let version = || async {
        sqlx::query_scalar::<_, i64>(
            "select coalesce((select version from team_versions v join users u on u.manager_id = v.manager_id
                              where u.id = $1), 0)",
        )
        .bind(csm)
        .fetch_one(&pool)
        .await
        .unwrap()
    };
    let run = |sql: &'static str| {
        let pool = pool.clone();
        async move {
            sqlx::query(sql)
                .bind(csm)
                .bind(a1)
                .execute(&pool)
                .await
                .unwrap()
        }
    };
    // The book's three open tasks, one of them past due.
    assert_eq!(row(&team().await), "1 | 0 | 0 % | 1 | 3 | 0");
    assert_eq!(row(&team().await), "1 | 0 | 0 % | 1 | 3 | 0", "again, kept");
    for sql in [
        "delete from interventions",
        "delete from escalations",
        "delete from tasks",
    ] {
        sqlx::query(sql).execute(&pool).await.unwrap();
    }
    assert_eq!(row(&team().await), "0 | 0 | — | 0 | 0 | 0", "all deleted");

    // A task of a CSM in no team leaves this team's version alone.
    let before = version().await;
    sqlx::query(
        "insert into tasks (account_id, assignee_id, title, kind, due_at)
         select id, owner_id, 'Call', 'call', now() - interval '1 hour' from accounts where external_id = 'B1'",
    )
    .execute(&pool)
    .await
    .unwrap();
    assert_eq!(version().await, before, "B1's CSM has no manager");

    // A task that fell due an hour ago, still open: due, breached and open.
    run(
        "insert into tasks (account_id, assignee_id, title, kind, due_at)
         values ($2, $1, 'Reach out', 'call', now() - interval '1 hour')",
    )
    .await;
    assert!(version().await > before);
    assert_eq!(row(&team().await), "1 | 0 | 0 % | 1 | 1 | 0");

    // Done before it was due: on time.
    run(
        "update tasks set status = 'done', completed_at = due_at - interval '1 minute'
         where assignee_id = $1 and account_id = $2",
    )
    .await;
    assert_eq!(row(&team().await), "1 | 1 | 100 % | 0 | 0 | 0");

    // An escalation of it (as the sweep writes them).
    run("insert into escalations (task_id, kind, notified)
         select id, 'breach', 'manager' from tasks where assignee_id = $1 and account_id = $2")
    .await;
    assert_eq!(row(&team().await), "1 | 1 | 100 % | 0 | 0 | 1");

    // A play on the CSM's account, then the task joined to it, then contact logged: the funnel.
    run("insert into plays (playbook_id, account_id, reason)
         select min(id), $2, 'test' from playbooks where $1 is not null")
    .await;
    assert!(team().await.contains("alerts: 1 plays"), "the new play");
    run("update tasks set play_id = (select max(id) from plays) where assignee_id = $1 and account_id = $2").await;
    run(
        "insert into interventions (account_id, user_id, kind, happened_on, outcome)
         values ($2, $1, 'call', current_date, 'positive')",
    )
    .await;
    let html = team().await;
    assert!(
        html.contains("contact: 1 plays") && html.contains("resolved: 1 plays"),
        "contact logged, every task done: {html}"
    );

    // The CSM moves to no team: gone from the page.
    run("update users set manager_id = null where id = $1 and $2 is not null").await;
    assert!(!team().await.contains(&format!("csm={csm}\"")));
}

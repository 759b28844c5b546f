//! Playbooks open plays once, late tasks escalate once through the outbox, and managers see
//! adherence; the playbook editor validates and previews.

use time::{Duration, OffsetDateTime};

use uuid::Uuid;

use crate::worklist::{Book, book, id_of};

/// The worklist's book after one run of the default playbooks: A4 fell 14 health points,
/// B1 (an at-risk SMB account) has a champion on record.
pub struct Played {
    pub b: Book,
    pub a4: Uuid,
    pub now: OffsetDateTime,
    pub opened: keel::playbooks::Opened,
}

pub async fn played(pool: sqlx::PgPool) -> Played {
    let b = book(pool.clone()).await;
    let a4 = id_of(&b.app, "A4").await;
    sqlx::query("update scores set decrement = 14 where account_id = $1")
        .bind(a4)
        .execute(&pool)
        .await
        .unwrap();
    let b1 = id_of(&b.app, "B1").await;
    sqlx::query("insert into contacts (account_id, external_id, name, email, is_champion) values ($1, 'C1', 'Olive Owner', 'olive@other.test', true)")
        .bind(b1)
        .execute(&pool)
        .await
        .unwrap();
    let now = OffsetDateTime::now_utc();
    let opened = open(&pool, now).await;
    Played { b, a4, now, opened }
}

async fn open(pool: &sqlx::PgPool, now: OffsetDateTime) -> keel::playbooks::Opened {
    let mut tx = pool.begin().await.unwrap();
    let (_, opened) = keel::pipeline::open_plays(pool, &mut tx, now.date(), now)
        .await
        .unwrap();
    tx.commit().await.unwrap();
    opened
}

#[sqlx::test]
async fn plays_open_once_with_a_task_for_the_accounts_csm(pool: sqlx::PgPool) {
    let Played { b, a4, now, opened } = played(pool.clone()).await;
    // A1 ($24k ARR, mid-market) and B1 (smb) are at risk; only B1 is SMB. A4 fell 14 points.
    let by: std::collections::HashMap<String, usize> = opened.by_playbook.into_iter().collect();
    assert_eq!(by["Medium decrement"], 1);
    assert_eq!(by["At-risk SMB"], 1, "B1 is an at-risk SMB account");
    assert_eq!(by["At-risk high-ARR"], 0, "no at-risk account has $50k ARR");
    let (title, assignee, due, reason): (String, Uuid, OffsetDateTime, String) = sqlx::query_as(
        "select t.title, t.assignee_id, t.due_at, t.reason from tasks t join plays p on p.id = t.play_id where p.account_id = $1",
    )
    .bind(a4)
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(title, "Reach out to the account");
    assert_eq!(assignee, b.csm_user.id, "the account's CSM");
    assert!(
        (due - now - Duration::hours(24)).abs() < Duration::seconds(1),
        "24 h SLA"
    );
    assert!(
        reason.contains("Medium decrement: health fell 14 points"),
        "{reason}"
    );
    assert_eq!(
        open(&pool, now).await.plays,
        0,
        "the next run opens nothing twice"
    );
}

#[sqlx::test]
async fn a_customer_email_waits_for_its_csm_to_edit_and_approve_it(pool: sqlx::PgPool) {
    let Played { b, opened, .. } = played(pool.clone()).await;
    assert_eq!(
        opened.emails, 1,
        "the at-risk SMB outreach emails B1's champion"
    );
    // The email waits for B1's CSM, filled in, to edit and approve; nobody else sees it.
    let theirs = b.app.client();
    theirs.login(&b.other.email, crate::helpers::PASSWORD).await;
    let queue = theirs.get("/emails/review").await.text().await.unwrap();
    assert!(
        queue.contains("How is Other Corp getting on?") && queue.contains("Hi Olive Owner,"),
        "{queue}"
    );
    assert!(
        queue.contains("would like to talk about getting everyone on your team set up"),
        "the topic, in the customer's terms: {queue}"
    );
    let body: String = sqlx::query_scalar("select body from outbox where audience = 'customer'")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert!(
        !body.contains("seats active") && !body.contains('%'),
        "the internal driver stays out of the customer's email: {body}"
    );
    let email: i64 = sqlx::query_scalar("select id from outbox where audience = 'customer'")
        .fetch_one(&pool)
        .await
        .unwrap();
    let mine = b.csm.get("/emails/review").await.text().await.unwrap();
    assert!(!mine.contains("Other Corp"));
    let form = [
        ("subject", "Checking in, Olive"),
        ("body", "Hi Olive, shall we talk on Thursday?"),
    ];
    let approve = format!("/emails/{email}/approve");
    assert_eq!(b.csm.hx_post(&approve, &form).await.status(), 404);
    assert_eq!(theirs.hx_post(&approve, &form).await.status(), 200);
    let (status, subject): (String, String) =
        sqlx::query_as("select status::text, subject from outbox where id = $1")
            .bind(email)
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(
        (status.as_str(), subject.as_str()),
        ("pending", "Checking in, Olive")
    );
    assert_eq!(
        theirs
            .hx_post(&format!("/emails/{email}/discard"), &[])
            .await
            .status(),
        404,
        "decided once"
    );
    assert_eq!(b.app.audit_count("email.approve").await, 1);
}

#[sqlx::test]
async fn a_reviewer_approves_the_ticked_emails_at_once_and_only_their_own(pool: sqlx::PgPool) {
    let b = book(pool.clone()).await;
    let queue = |name: &'static str| {
        let pool = pool.clone();
        let app = &b.app;
        async move {
            let account = id_of(app, name).await;
            sqlx::query_scalar::<_, i64>(
                "insert into outbox (audience, recipient, subject, body, status, account_id)
                 values ('customer', 'x@customer.test', 'Hello', 'Hi', 'review', $1) returning id",
            )
            .bind(account)
            .fetch_one(&pool)
            .await
            .unwrap()
        }
    };
    let (a1, a2, a3, other) = (
        queue("A1").await,
        queue("A2").await,
        queue("A3").await,
        queue("B1").await,
    );
    let page = b.csm.get("/emails/review").await.text().await.unwrap();
    assert!(page.contains("Tick all 3"), "{page}");
    // A1 and A2 ticked, and B1's email, which is not this CSM's, slipped in.
    let ticked = [a1, a2, other].map(|id| ("email", id.to_string()));
    let form: Vec<(&str, &str)> = ticked.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let answer = b.csm.hx_post("/emails/approve", &form).await;
    assert_eq!(answer.status(), 200);
    let html = answer.text().await.unwrap();
    assert!(html.contains("Approved 2 emails as written"), "{html}");
    let status = |id: i64| {
        let pool = pool.clone();
        async move {
            sqlx::query_scalar::<_, String>("select status::text from outbox where id = $1")
                .bind(id)
                .fetch_one(&pool)
                .await
                .unwrap()
        }
    };
    assert_eq!(status(a1).await, "pending");
    assert_eq!(status(a2).await, "pending");
    assert_eq!(status(a3).await, "review", "not ticked");
    assert_eq!(
        status(other).await,
        "review",
        "another CSM's email is not theirs to approve"
    );
    assert_eq!(b.app.audit_count("email.approve").await, 2);
    let none = b.csm.hx_post("/emails/approve", &[]).await;
    assert_eq!(none.status(), 400, "nothing ticked");
}

#[sqlx::test]
async fn a_late_task_escalates_to_the_manager_once_then_once_more_if_unresolved(
    pool: sqlx::PgPool,
) {
    let Played { b, a4, now, .. } = played(pool.clone()).await;
    let manager_email: String = sqlx::query_scalar(
        "select m.email from users u join users m on m.id = u.manager_id where u.id = $1",
    )
    .bind(b.csm_user.id)
    .fetch_one(&pool)
    .await
    .unwrap();
    // A day later the 24-hour task is late, with two of the book's: the CSM's manager is told
    // of the three in one email, once. Two sweeps at once (two workers), held until both wait
    // to write: one records the three, the other finds them recorded.
    let later = now + Duration::hours(25);
    let mut hold = pool.begin().await.unwrap();
    sqlx::query("lock table escalations in share mode")
        .execute(&mut *hold)
        .await
        .unwrap();
    let sweeps = [(); 2].map(|()| {
        let pool = pool.clone();
        tokio::spawn(async move { keel::playbooks::sweep(&pool, later).await })
    });
    let waiting = "select count(*) from pg_locks where not granted
                   and database = (select oid from pg_database where datname = current_database())";
    while sqlx::query_scalar::<_, i64>(waiting)
        .fetch_one(&pool)
        .await
        .unwrap()
        < 2
    {
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    hold.commit().await.unwrap();
    let [one, two] = sweeps;
    let mut counts = [one.await.unwrap().unwrap(), two.await.unwrap().unwrap()];
    counts.sort_unstable();
    assert_eq!(counts, [0, 3], "each escalation happens once");
    let emails: Vec<(String, String, String)> =
        sqlx::query_as("select recipient, subject, body from outbox where audience = 'internal'")
            .fetch_all(&pool)
            .await
            .unwrap();
    let [(recipient, subject, body)] = emails.as_slice() else {
        panic!("one email: {emails:?}");
    };
    assert_eq!(recipient, &manager_email);
    assert_eq!(subject, "3 escalations: 3 SLA breached, 0 unresolved");
    assert!(
        body.contains("SLA breached: \"Reach out to the account\" on Delta LLC"),
        "{body}"
    );
    // Three days on, still open: unresolved, a second and last escalation.
    assert!(
        keel::playbooks::sweep(&pool, now + Duration::days(4))
            .await
            .unwrap()
            >= 1
    );
    let kinds: Vec<String> = sqlx::query_scalar(
        "select e.kind from escalations e join tasks t on t.id = e.task_id join plays p on p.id = t.play_id
         where p.account_id = $1 order by e.kind",
    )
    .bind(a4)
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(kinds, ["breach", "unresolved"]);
    // An escalation names a task that exists, and keeps it.
    let refused = |sql: &'static str| {
        let pool = pool.clone();
        async move {
            let e = sqlx::query(sql).execute(&pool).await.unwrap_err();
            e.as_database_error().unwrap().code().unwrap().into_owned()
        }
    };
    assert_eq!(
        refused("insert into escalations (task_id, kind, notified) values (-1, 'breach', 'x')")
            .await,
        "23503"
    );
    assert_eq!(
        refused("delete from tasks where id in (select task_id from escalations)").await,
        "23503"
    );
}

#[sqlx::test]
async fn an_unanswered_outreach_goes_to_the_sponsor_once_after_72_hours(pool: sqlx::PgPool) {
    let Played { b, a4, now, .. } = played(pool.clone()).await;
    sqlx::query(
        "update accounts set executive_sponsor = 'Vera Sponsor <vera@delta.test>' where id = $1",
    )
    .bind(a4)
    .execute(&pool)
    .await
    .unwrap();
    let email_task: i64 = sqlx::query_scalar(
        "insert into tasks (account_id, assignee_id, title, kind, due_at, status, completed_at)
         values ($1, $2, 'Outreach', 'email', $3, 'done', $3) returning id",
    )
    .bind(a4)
    .bind(b.csm_user.id)
    .bind(now)
    .fetch_one(&pool)
    .await
    .unwrap();
    let sponsor_mail = || async {
        sqlx::query_as::<_, (String, String)>(
            "select recipient, status::text from outbox where task_id = $1",
        )
        .bind(email_task)
        .fetch_all(&pool)
        .await
        .unwrap()
    };
    keel::playbooks::sweep(&pool, now + Duration::hours(71))
        .await
        .unwrap();
    assert!(sponsor_mail().await.is_empty(), "not before 72 hours");
    for hours in [73, 80] {
        keel::playbooks::sweep(&pool, now + Duration::hours(hours))
            .await
            .unwrap();
    }
    assert_eq!(
        sponsor_mail().await,
        [(
            "Vera Sponsor <vera@delta.test>".to_owned(),
            "review".to_owned()
        )],
        "once, waiting for the CSM's review"
    );
}

//! Email through a real SMTP conversation: an SMTP server inside the test process receives
//! what the outbox sends; while it is down, emails wait, then all arrive exactly once.

use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use mailin_embedded::{Handler, Response, Server, SslConfig, response};
use time::{Duration, OffsetDateTime};

/// One received message: its recipients and raw content.
pub type Inbox = Arc<Mutex<Vec<(Vec<String>, String)>>>;

#[derive(Clone)]
pub struct Collect {
    pub inbox: Inbox,
    pub to: Vec<String>,
    pub data: Vec<u8>,
}

impl Handler for Collect {
    /// Refuses mailboxes named `nobody@…` for good (550), as a real server refuses an
    /// unknown user.
    fn rcpt(&mut self, to: &str) -> Response {
        if to.starts_with("nobody@") {
            response::NO_MAILBOX
        } else {
            response::OK
        }
    }
    fn data_start(&mut self, _domain: &str, _from: &str, _is8bit: bool, to: &[String]) -> Response {
        self.to = to.to_vec();
        self.data.clear();
        response::OK
    }
    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.data.extend_from_slice(buf);
        Ok(())
    }
    fn data_end(&mut self) -> Response {
        let message = String::from_utf8_lossy(&self.data).into_owned();
        self.inbox.lock().unwrap().push((self.to.clone(), message));
        response::OK
    }
}

/// Serves SMTP on `listener` until the test process ends.
pub fn smtp_server(listener: TcpListener) -> Inbox {
    let inbox = Inbox::default();
    let mut server = Server::new(Collect {
        inbox: inbox.clone(),
        to: Vec::new(),
        data: Vec::new(),
    });
    server
        .with_num_threads(2 * keel::mail::SENDERS as u32)
        .with_ssl(SslConfig::None)
        .unwrap()
        .with_tcp_listener(listener);
    std::thread::spawn(move || {
        let _ = server.serve();
    });
    inbox
}

pub async fn queue(pool: &sqlx::PgPool, n: usize) {
    for i in 0..n {
        sqlx::query("insert into outbox (audience, recipient, subject, body) values ('internal', $1, $2, $3)")
            .bind(format!("manager{i}@example.com"))
            .bind(format!("SLA breached: task {i}"))
            .bind(format!("Task {i} is late."))
            .execute(pool)
            .await
            .unwrap();
    }
}

#[sqlx::test]
async fn an_undeliverable_email_fails_alone_and_every_other_arrives_exactly_once(
    pool: sqlx::PgPool,
) {
    keel::db::migrate(&pool).await.unwrap();
    queue(&pool, 2).await;
    for bad in ["bob at acme", "nobody@example.com"] {
        sqlx::query("insert into outbox (audience, recipient, subject, body) values ('internal', $1, 'Hello', 'Hi')")
            .bind(bad)
            .execute(&pool)
            .await
            .unwrap();
    }
    queue(&pool, 3).await;
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let inbox = smtp_server(listener);
    let mailer =
        keel::mail::Mailer::new(&format!("127.0.0.1:{port}"), "Keel <keel@example.com>").unwrap();
    let now = OffsetDateTime::now_utc();
    let first = keel::mail::send_due(&pool, &mailer, now).await.unwrap();
    assert_eq!((first.sent, first.retrying, first.failed), (5, 0, 2));
    // Later sweeps find nothing to send: the good emails are sent, the bad ones failed.
    for later in [Duration::seconds(5), Duration::hours(2)] {
        let again = keel::mail::send_due(&pool, &mailer, now + later)
            .await
            .unwrap();
        assert_eq!(again, keel::mail::Sent::default());
    }
    let received = inbox.lock().unwrap().clone();
    assert_eq!(
        received.len(),
        5,
        "each good email arrives once: {received:?}"
    );
    let failed: Vec<(String, String)> = sqlx::query_as(
        "select recipient, last_error from outbox where status = 'failed' order by id",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(failed.len(), 2);
    assert!(failed[0].1.contains("bob at acme"), "{failed:?}");
    assert!(failed[1].1.contains("550"), "{failed:?}");
    let ids: Vec<i64> =
        sqlx::query_scalar("select id from outbox where status = 'sent' order by id")
            .fetch_all(&pool)
            .await
            .unwrap();
    for id in ids {
        assert_eq!(
            received
                .iter()
                .filter(|(_, m)| m.contains(&format!("Message-ID: <outbox-{id}@example.com>")))
                .count(),
            1,
            "a stable Message-ID per outbox email"
        );
    }
}

#[sqlx::test]
async fn two_workers_sending_at_once_deliver_each_email_exactly_once(pool: sqlx::PgPool) {
    keel::db::migrate(&pool).await.unwrap();
    queue(&pool, 300).await;
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let inbox = smtp_server(listener);
    let server = format!("127.0.0.1:{port}");
    let (a, b) = (
        keel::mail::Mailer::new(&server, "Keel <keel@example.com>").unwrap(),
        keel::mail::Mailer::new(&server, "Keel <keel@example.com>").unwrap(),
    );
    let now = OffsetDateTime::now_utc();
    let (one, two) = tokio::join!(
        keel::mail::send_due(&pool, &a, now),
        keel::mail::send_due(&pool, &b, now)
    );
    let (one, two) = (one.unwrap(), two.unwrap());
    assert_eq!(one.sent + two.sent, 300, "{one:?} {two:?}");
    let received = inbox.lock().unwrap().clone();
    let mut subjects: Vec<&str> = received
        .iter()
        .filter_map(|(_, m)| m.lines().find(|l| l.starts_with("Subject: ")))
        .collect();
    subjects.sort_unstable();
    subjects.dedup();
    assert_eq!(
        (received.len(), subjects.len()),
        (300, 300),
        "every email arrives, none twice"
    );
    let unsent: i64 = sqlx::query_scalar("select count(*) from outbox where status <> 'sent'")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(unsent, 0);
}

#[sqlx::test]
async fn emails_wait_while_the_server_is_down_and_all_arrive_once_when_it_is_back(
    pool: sqlx::PgPool,
) {
    keel::db::migrate(&pool).await.unwrap();
    queue(&pool, 3).await;
    // A port with nothing listening: the mail server is down.
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mailer =
        keel::mail::Mailer::new(&format!("127.0.0.1:{port}"), "Keel <keel@example.com>").unwrap();
    let now = OffsetDateTime::now_utc();
    let down = keel::mail::send_due(&pool, &mailer, now).await.unwrap();
    assert_eq!((down.sent, down.retrying, down.failed), (0, 3, 0));
    let (pending, errors): (i64, i64) = sqlx::query_as(
        "select count(*) filter (where status = 'pending'), count(last_error) from outbox",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(
        (pending, errors),
        (3, 3),
        "nothing is lost; each says why it waits"
    );
    let retry_too_soon = keel::mail::send_due(&pool, &mailer, now + Duration::seconds(10))
        .await
        .unwrap();
    assert_eq!(
        retry_too_soon,
        keel::mail::Sent::default(),
        "backoff: not retried before 30 s"
    );

    // The server comes back on that port.
    let inbox = smtp_server(TcpListener::bind(("127.0.0.1", port)).unwrap());
    let back = keel::mail::send_due(&pool, &mailer, now + Duration::seconds(31))
        .await
        .unwrap();
    assert_eq!((back.sent, back.retrying, back.failed), (3, 0, 0));
    assert_eq!(
        keel::mail::send_due(&pool, &mailer, now + Duration::hours(2))
            .await
            .unwrap()
            .sent,
        0,
        "sent once"
    );
    let received = inbox.lock().unwrap().clone();
    assert_eq!(received.len(), 3);
    for i in 0..3 {
        let (to, message) = received
            .iter()
            .find(|(to, _)| to == &[format!("manager{i}@example.com")])
            .unwrap_or_else(|| panic!("no email for manager{i}: {received:?}"));
        assert_eq!(to.len(), 1);
        assert!(
            message.contains(&format!("Subject: SLA breached: task {i}")),
            "{message}"
        );
        assert!(message.contains(&format!("Task {i} is late.")));
        assert!(message.contains("From: Keel <keel@example.com>"));
    }
    let sent: i64 = sqlx::query_scalar("select count(*) from outbox where status = 'sent' and sent_at is not null and attempts = 2")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(sent, 3);
}

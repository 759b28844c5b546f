//! Email through a real SMTP conversation (server in mail.rs): late tasks reach the manager in
//! one email, and mail goes over STARTTLS with credentials.

use std::net::TcpListener;

use mailin_embedded::{Handler, Response, Server, SslConfig, response};
use time::{Duration, OffsetDateTime};

use crate::mail::{Collect, Inbox, queue, smtp_server};

#[sqlx::test]
async fn late_tasks_reach_the_managers_mailbox_in_one_email(pool: sqlx::PgPool) {
    let b = crate::worklist::book(pool.clone()).await;
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    let inbox = smtp_server(listener);
    // The other CSM's manager has one late task to hear of: that task's own email.
    let lone = b.app.create_user(keel::auth::Role::Manager).await;
    sqlx::query("update users set manager_id = $1 where id = (select assignee_id from tasks where title = 'Someone else''s task')")
        .bind(lone.id)
        .execute(&pool)
        .await
        .unwrap();
    // Six hours on, two of the CSM's tasks are late: one email tells their manager of both.
    let later = OffsetDateTime::now_utc() + Duration::hours(6);
    assert_eq!(keel::playbooks::sweep(&pool, later).await.unwrap(), 3);
    let mailer = keel::mail::Mailer::new(&addr.to_string(), "Keel <keel@example.com>").unwrap();
    let sent = keel::mail::send_due(&pool, &mailer, later).await.unwrap();
    assert!(sent.sent == 2 && sent.failed == 0, "{sent:?}");
    let manager: String = sqlx::query_scalar(
        "select m.email from users u join users m on m.id = u.manager_id where u.id = $1",
    )
    .bind(b.csm_user.id)
    .fetch_one(&pool)
    .await
    .unwrap();
    let received = inbox.lock().unwrap().clone();
    let to = |who: &str| {
        let of: Vec<&String> = received
            .iter()
            .filter(|(to, _)| to.as_slice() == [who])
            .map(|(_, m)| m)
            .collect();
        match of.as_slice() {
            [one] => one.to_string(),
            _ => panic!("one email to {who}: {received:?}"),
        }
    };
    assert!(
        to(&lone.email).contains("Subject: SLA breached: Someone else's task (Other Corp)"),
        "{received:?}"
    );
    let message = to(&manager);
    assert!(
        message.contains("Subject: 2 escalations: 2 SLA breached, 0 unresolved"),
        "{message}"
    );
    // Both a plain-text and an HTML body, from templates/emails/escalations/.
    assert!(message.contains("multipart/alternative"), "{message}");
    assert!(
        message.contains("Content-Type: text/plain") && message.contains("Content-Type: text/html")
    );
    let body: String = sqlx::query_scalar("select body from outbox where recipient = $1")
        .bind(&manager)
        .fetch_one(&pool)
        .await
        .unwrap();
    let renewal = body
        .find("\"Send the renewal offer\" on Charlie Inc")
        .expect(&body);
    let call = body.find("\"Call the champion\" on").expect(&body);
    assert!(renewal < call, "the task due first comes first: {body}");
}

/// Accepts PLAIN credentials keel/s3cret only, and keeps what it receives.
#[derive(Clone)]
struct Guarded(Collect);

impl Handler for Guarded {
    fn auth_plain(&mut self, _authz: &str, user: &str, password: &str) -> Response {
        if (user, password) == ("keel", "s3cret") {
            response::AUTH_OK
        } else {
            response::INVALID_CREDENTIALS
        }
    }
    fn data_start(&mut self, domain: &str, from: &str, is8bit: bool, to: &[String]) -> Response {
        self.0.data_start(domain, from, is8bit, to)
    }
    fn data(&mut self, buf: &[u8]) -> std::io::Result<()> {
        self.0.data(buf)
    }
    fn data_end(&mut self) -> Response {
        self.0.data_end()
    }
}

#[sqlx::test]
async fn mail_goes_over_starttls_with_credentials_and_not_without_them(pool: sqlx::PgPool) {
    keel::db::migrate(&pool).await.unwrap();
    queue(&pool, 1).await;
    // A private CA and a certificate for 127.0.0.1 it signed, made by Debian's openssl.
    let dir = std::env::temp_dir().join(format!("keel-tls-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let (ca_cert, cert, key) = (
        dir.join("ca.pem"),
        dir.join("cert.pem"),
        dir.join("key.pem"),
    );
    std::fs::write(
        dir.join("ext"),
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n",
    )
    .unwrap();
    let openssl = |args: &[&str]| {
        let out = std::process::Command::new("openssl")
            .current_dir(&dir)
            .args(args)
            .output()
            .expect("openssl (Debian's package) makes the test certificates");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    };
    openssl(&[
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "1",
        "-subj",
        "/CN=Keel test CA",
        "-keyout",
        "ca.key",
        "-out",
        "ca.pem",
    ]);
    openssl(&[
        "req",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-subj",
        "/CN=127.0.0.1",
        "-keyout",
        "key.pem",
        "-out",
        "leaf.csr",
    ]);
    openssl(&[
        "x509",
        "-req",
        "-in",
        "leaf.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "1",
        "-extfile",
        "ext",
        "-out",
        "cert.pem",
    ]);
    let inbox = Inbox::default();
    let mut server = Server::new(Guarded(Collect {
        inbox: inbox.clone(),
        to: Vec::new(),
        data: Vec::new(),
    }));
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    server
        .with_ssl(SslConfig::SelfSigned {
            cert_path: cert.to_string_lossy().into_owned(),
            key_path: key.to_string_lossy().into_owned(),
        })
        .unwrap()
        .with_auth(mailin_embedded::AuthMechanism::Plain)
        .with_num_threads(2 * keel::mail::SENDERS as u32)
        .with_tcp_listener(listener);
    std::thread::spawn(move || {
        let _ = server.serve();
    });
    let ca = std::fs::read(&ca_cert).unwrap();
    let from = "Keel <keel@example.com>";
    let now = OffsetDateTime::now_utc();
    // Wrong password: refused for good (a 535), nothing delivered.
    let wrong = keel::mail::Mailer::with_ca(
        &format!("smtp://keel:nope@127.0.0.1:{port}?tls=required"),
        from,
        Some(&ca),
    )
    .unwrap();
    let out = keel::mail::send_due(&pool, &wrong, now).await.unwrap();
    let why: Option<String> = sqlx::query_scalar("select last_error from outbox")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!((out.sent, out.failed), (0, 1), "{why:?}");
    assert!(inbox.lock().unwrap().is_empty());
    // The right credentials, over STARTTLS with the server's certificate verified.
    sqlx::query("update outbox set status = 'pending', attempts = 0, last_error = null, next_attempt_at = now() - interval '1 minute'")
        .execute(&pool)
        .await
        .unwrap();
    let right = keel::mail::Mailer::with_ca(
        &format!("smtp://keel:s3cret@127.0.0.1:{port}?tls=required"),
        from,
        Some(&ca),
    )
    .unwrap();
    let out = keel::mail::send_due(&pool, &right, now).await.unwrap();
    assert_eq!((out.sent, out.failed), (1, 0));
    assert_eq!(inbox.lock().unwrap().len(), 1);
    // Without trusting that certificate, TLS fails and nothing is sent in clear.
    queue(&pool, 1).await;
    let untrusted = keel::mail::Mailer::new(
        &format!("smtp://keel:s3cret@127.0.0.1:{port}?tls=required"),
        from,
    )
    .unwrap();
    let out = keel::mail::send_due(&pool, &untrusted, now).await.unwrap();
    assert_eq!(out.sent, 0);
    assert_eq!(inbox.lock().unwrap().len(), 1);
    let _ = std::fs::remove_dir_all(&dir);
}

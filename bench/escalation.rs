//! The escalation sweep over 100,000 open tasks, and the outbox sender's throughput against
//! an SMTP server in this process. Uses a scratch database it creates and drops.
//!
//!     cargo bench --bench escalation [-- TASKS EMAILS]

use std::io::Write;
use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

use lettre::{AsyncTransport, Message};
use mailin_embedded::response::OK;
use mailin_embedded::{Handler, Response, Server, SslConfig};
use sqlx::postgres::PgPoolOptions;
use time::{Duration, OffsetDateTime};

/// Accepts every message and counts them.
#[derive(Clone)]
struct Accept(Arc<AtomicU64>);
impl Handler for Accept {
    fn data_end(&mut self) -> Response {
        self.0.fetch_add(1, Ordering::Relaxed);
        OK
    }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let tasks = args.first().copied().unwrap_or(100_000);
    let emails = args.get(1).copied().unwrap_or(2_000);
    let admin = PgPoolOptions::new()
        .max_connections(1)
        .connect("postgres://postgres@127.0.0.1:5432/postgres")
        .await?;
    sqlx::query("drop database if exists keel_bench_escalation")
        .execute(&admin)
        .await?;
    sqlx::query("create database keel_bench_escalation")
        .execute(&admin)
        .await?;
    let pool = PgPoolOptions::new()
        .max_connections(keel::mail::SENDERS as u32 + 2)
        .connect("postgres://postgres@127.0.0.1:5432/keel_bench_escalation")
        .await?;
    keel::db::migrate(&pool).await?;
    // 50 managers, 500 CSMs, 10,000 accounts, `tasks` open tasks already past due.
    sqlx::query(
        r#"insert into users (id, email, name, role, password_hash)
           select gen_random_uuid(), 'manager' || i || '@bench', 'Manager ' || i, 'manager', 'x' from generate_series(1, 50) i"#,
    )
    .execute(&pool)
    .await?;
    sqlx::query(
        r#"insert into users (id, email, name, role, password_hash, manager_id)
           select gen_random_uuid(), 'csm' || i || '@bench', 'CSM ' || i, 'csm', 'x',
                  (select id from users where email = 'manager' || (i % 50 + 1) || '@bench')
           from generate_series(1, 500) i"#,
    )
    .execute(&pool)
    .await?;
    sqlx::query(
        r#"insert into accounts (id, external_id, name, plan, seats, mrr_cents, customer_since, owner_id)
           select gen_random_uuid(), 'A' || i, 'Account ' || i, 'team', 10, 50000, '2025-01-01',
                  (select id from users where email = 'csm' || (i % 500 + 1) || '@bench')
           from generate_series(1, 10000) i"#,
    )
    .execute(&pool)
    .await?;
    let now = OffsetDateTime::now_utc();
    sqlx::query(
        r#"insert into tasks (account_id, assignee_id, title, kind, due_at, created_at)
           select a.id, a.owner_id, 'Call the account', 'call', $2 - interval '1 hour', $2 - interval '4 days'
           from generate_series(1, $1) i join accounts a on a.external_id = 'A' || (i % 10000 + 1)"#,
    )
    .bind(tasks as i64)
    .bind(now)
    .execute(&pool)
    .await?;
    // Statistics as a live database has them (autovacuum's analyse), escalations empty: the
    // case in which one statement that searched and wrote that table took minutes.
    sqlx::query("analyze").execute(&pool).await?;
    let mut out = std::io::stdout().lock();
    let started = Instant::now();
    let escalated = keel::playbooks::sweep(&pool, now).await?;
    let first = started.elapsed().as_secs_f64();
    let started = Instant::now();
    let again = keel::playbooks::sweep(&pool, now + Duration::minutes(1)).await?;
    let second = started.elapsed().as_secs_f64();
    let queued: i64 = sqlx::query_scalar("select count(*) from outbox")
        .fetch_one(&pool)
        .await?;
    writeln!(
        out,
        "sweep over {tasks} open late tasks: {escalated} escalations (breach + unresolved) and {queued} emails (one per manager) in {first:.2} s; the next sweep finds {again} new in {second:.2} s"
    )?;

    // The sender: `emails` of the outbox to a local SMTP server.
    // Two sent emails per late task stay behind as history, as sent mail piles up in a real
    // outbox.
    sqlx::query("update outbox set status = 'discarded'")
        .execute(&pool)
        .await?;
    let history = sqlx::query(
        "insert into outbox (audience, recipient, subject, body, status, sent_at) select 'internal', 'h' || i || '@bench', 'Sent ' || i, 'Body', 'sent', now() from generate_series(1, $1) i",
    )
    .bind(2 * tasks as i64)
    .execute(&pool)
    .await?
    .rows_affected()
        + queued as u64;
    sqlx::query(
        "insert into outbox (audience, recipient, subject, body) select 'internal', 'm' || i || '@bench', 'Subject ' || i, 'Body' from generate_series(1, $1) i",
    )
    .bind(emails as i64)
    .execute(&pool)
    .await?;
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let addr = listener.local_addr()?;
    let received = Arc::new(AtomicU64::new(0));
    let mut server = Server::new(Accept(received.clone()));
    server
        .with_num_threads(2 * keel::mail::SENDERS as u32)
        .with_ssl(SslConfig::None)
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .with_tcp_listener(listener);
    std::thread::spawn(move || {
        let _ = server.serve();
    });

    // The reference: the same number of messages straight to the server, as many at once
    // and over as many pooled connections as the sender uses, with no database.
    let transport = keel::mail::transport::build(&addr.to_string(), None)?;
    let started = Instant::now();
    let mut plain = tokio::task::JoinSet::new();
    for s in 0..keel::mail::SENDERS as usize {
        let transport = transport.clone();
        let n = emails / keel::mail::SENDERS as usize
            + usize::from(s < emails % keel::mail::SENDERS as usize);
        plain.spawn(async move {
            for i in 0..n {
                let m = Message::builder()
                    .from("Keel <keel@bench>".parse()?)
                    .to(format!("m{s}x{i}@bench").parse()?)
                    .subject("Subject")
                    .body("Body".to_owned())?;
                transport.send(m).await?;
            }
            anyhow::Ok(())
        });
    }
    while let Some(done) = plain.join_next().await {
        done??;
    }
    let plain_secs = started.elapsed().as_secs_f64();
    writeln!(
        out,
        "plain SMTP send (reference): {emails} messages in {plain_secs:.2} s = {:.0} messages/s",
        emails as f64 / plain_secs
    )?;
    received.store(0, Ordering::Relaxed);

    let mailer = keel::mail::Mailer::new(&addr.to_string(), "Keel <keel@bench>")?;
    let started = Instant::now();
    let mut sent = 0;
    loop {
        let s = keel::mail::send_due(&pool, &mailer, OffsetDateTime::now_utc()).await?;
        anyhow::ensure!(
            s.failed + s.retrying == 0,
            "{} emails failed",
            s.failed + s.retrying
        );
        if s.sent == 0 {
            break;
        }
        sent += s.sent;
    }
    let secs = started.elapsed().as_secs_f64();
    let arrived = received.load(Ordering::Relaxed);
    let marked: i64 = sqlx::query_scalar(
        "select count(*) from outbox where status = 'sent' and recipient ~ '^m[0-9]+@bench$'",
    )
    .fetch_one(&pool)
    .await?;
    writeln!(
        out,
        "outbox sender: {sent} emails in {secs:.2} s = {:.0} emails/s ({} conversations at once; {history} older emails in the outbox); the server received {arrived}, {marked} marked sent",
        sent as f64 / secs,
        keel::mail::SENDERS
    )?;
    anyhow::ensure!(
        arrived == sent && marked == sent as i64,
        "not exactly once: sent {sent}, received {arrived}, marked {marked}"
    );
    pool.close().await;
    sqlx::query("drop database keel_bench_escalation with (force)")
        .execute(&admin)
        .await?;
    Ok(())
}

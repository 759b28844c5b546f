//! Ingestion throughput: product events from CSV through validation, polars roll-ups and
//! the upserts into PostgreSQL, beside a plain `COPY` of the same rows into an unindexed
//! table in the same run.
//!
//!     cargo bench --bench ingest -- [accounts] [days]
//!
//! Needs PostgreSQL at 127.0.0.1:5432 (or `BENCH_DATABASE_URL` for the server's
//! `postgres` database); works in a scratch database it drops afterwards.

use std::io::Write;
use std::time::Instant;

use keel::auth::audit::Actor;
use keel::demo::company::Company;
use keel::ingest::{self, Entity, Payload, Status};
use sqlx::postgres::PgPoolOptions;
use sqlx::{Connection, PgConnection};
use time::{Duration, OffsetDateTime};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    if std::env::var("KEEL_LOG").is_ok() {
        keel::telemetry::init("info,sqlx=warn");
    }
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let accounts = args.first().copied().unwrap_or(4_200);
    let days = args.get(1).copied().unwrap_or(7) as i64;
    let server = std::env::var("BENCH_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let scratch = "keel_bench_ingest";
    let mut admin = PgConnection::connect(&server).await?;
    sqlx::query(&format!("drop database if exists {scratch}"))
        .execute(&mut admin)
        .await?;
    sqlx::query(&format!("create database {scratch}"))
        .execute(&mut admin)
        .await?;
    let url = format!(
        "{}/{scratch}",
        server
            .rsplit_once('/')
            .map_or(server.as_str(), |(base, _)| base)
    );
    let pool = PgPoolOptions::new()
        .max_connections(4)
        .connect(&url)
        .await?;
    keel::db::migrate(&pool).await?;

    // Yesterday, as the demo does: today's simulated hours may lie ahead of the clock.
    let as_of = OffsetDateTime::now_utc().date() - Duration::days(1);
    let company = Company::simulate(7, accounts, as_of, 1, keel::demo::Profile::load(None)?);
    let load = |entity, csv: Vec<u8>| {
        let pool = pool.clone();
        async move { ingest::ingest(&pool, entity, Payload::Csv(csv), None, "bench", &Actor::Cli).await }
    };
    let out = load(Entity::Accounts, company.accounts_csv(&[]))
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    anyhow::ensure!(
        out.status == Status::Accepted,
        "accounts refused: {:?}",
        out.errors
    );

    let csv = company.events_csv(as_of - Duration::days(days - 1), as_of);
    let rows = csv.iter().filter(|b| **b == b'\n').count() - 1;
    let mb = csv.len() as f64 / 1e6;

    let started = Instant::now();
    let out = load(Entity::Events, csv.clone())
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let keel_secs = started.elapsed().as_secs_f64();
    anyhow::ensure!(
        out.status == Status::Accepted,
        "events refused: {:?}",
        &out.errors[..out.errors.len().min(3)]
    );

    let mut conn = pool.acquire().await?;
    sqlx::query("create unlogged table copy_baseline (account_id text, user_id text, event_type text, ts text, count int)")
        .execute(&mut *conn)
        .await?;
    let started = Instant::now();
    let mut copy = conn
        .copy_in_raw("copy copy_baseline from stdin (format csv, header true)")
        .await?;
    copy.send(csv.as_slice()).await?;
    copy.finish().await?;
    let copy_secs = started.elapsed().as_secs_f64();

    let mut out_stream = std::io::stdout().lock();
    writeln!(
        out_stream,
        "{accounts} accounts, {days} days: {rows} event rows ({} events, {mb:.0} MB CSV), {} user-day roll-ups",
        out.events, out.written
    )?;
    writeln!(
        out_stream,
        "keel ingest (CSV → validate → polars roll-up → upsert): {keel_secs:.2} s = {:.0} rows/s = {:.0} events/s",
        rows as f64 / keel_secs,
        out.events as f64 / keel_secs
    )?;
    writeln!(
        out_stream,
        "plain COPY into an unindexed table:                    {copy_secs:.2} s = {:.0} rows/s",
        rows as f64 / copy_secs
    )?;
    writeln!(
        out_stream,
        "ratio keel / COPY (rows/s): {:.2}",
        copy_secs / keel_secs
    )?;
    conn.close().await?;
    pool.close().await;
    // A closed connection's backend can outlive the close by a moment: force the scratch
    // database's drop rather than race it.
    sqlx::query(&format!("drop database if exists {scratch} with (force)"))
        .execute(&mut admin)
        .await?;
    Ok(())
}

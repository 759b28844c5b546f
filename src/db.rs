//! The database: connecting (creating the database if missing), migrating, and — when no
//! server answers at the default address — a private PostgreSQL started from the machine's
//! installed binaries under the data directory.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::str::FromStr;
use std::time::Duration;

use anyhow::{Context, bail};
use sqlx::migrate::MigrateDatabase;
use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, PgPool, Postgres};

use crate::config::{Config, DEFAULT_DATABASE_URL};

const PRIVATE_PORT: u16 = 54329;

/// Sort and hash memory for each pooled connection, unless the URL's `options` set their own.
/// The daily run, training and the roll-ups group hundreds of thousands of user-days a
/// statement; at PostgreSQL's default 4 MB those sorts spill to disk. At 4,200 accounts:
/// training 28.9 -> 22.6 s, a daily run 6.2 -> 5.2 s. It is a ceiling, not a reservation: a
/// page's small sorts take what they need.
const WORK_MEM: &str = "64MB";

/// Connects to the configured database, creating it if missing. With the default URL and
/// no server answering, starts (or reuses) a private server under `config.data_dir`.
pub async fn connect(config: &Config) -> anyhow::Result<PgPool> {
    let mut url = config.database_url.clone();
    if url == DEFAULT_DATABASE_URL && !server_answers(&url).await {
        url = private_server(&config.data_dir).await?;
    }
    if !Postgres::database_exists(&url)
        .await
        .with_context(|| format!("reaching PostgreSQL at {}", redact(&url)))?
    {
        Postgres::create_database(&url)
            .await
            .context("creating the database")?;
        tracing::info!(url = %redact(&url), "created database");
    }
    let mut options = PgConnectOptions::from_str(&url)?
        .log_slow_statements(tracing::log::LevelFilter::Warn, Duration::from_millis(500));
    if !options
        .get_options()
        .is_some_and(|o| o.contains("work_mem"))
    {
        options = options.options([("work_mem", WORK_MEM)]);
    }
    PgPoolOptions::new()
        .max_connections(config.db_max_connections)
        .acquire_timeout(Duration::from_millis(config.db_acquire_timeout_ms))
        .connect_with(options)
        .await
        .with_context(|| format!("connecting to {}", redact(&url)))
}

/// Applies Keel's migrations and the session store's schema.
pub async fn migrate(pool: &PgPool) -> anyhow::Result<()> {
    sqlx::migrate!("./migrations")
        .run(pool)
        .await
        .context("running migrations")?;
    tower_sessions_sqlx_store::PostgresStore::new(pool.clone())
        .migrate()
        .await
        .context("creating the session store")?;
    Ok(())
}

async fn server_answers(url: &str) -> bool {
    let Ok(mut options) = PgConnectOptions::from_str(url) else {
        return false;
    };
    options = options.database("postgres");
    tokio::time::timeout(Duration::from_secs(3), options.connect())
        .await
        .is_ok_and(|r| r.is_ok())
}

fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    match rest.split_once('@') {
        Some((creds, host)) => {
            let user = creds.split_once(':').map_or(creds, |(u, _)| u);
            format!("{scheme}://{user}@{host}")
        }
        None => url.to_owned(),
    }
}

/// Starts the private server if it is not already running and returns its URL.
async fn private_server(data_dir: &Path) -> anyhow::Result<String> {
    let url = format!("postgres://postgres@127.0.0.1:{PRIVATE_PORT}/keel");
    if server_answers(&url).await {
        tracing::info!(%url, "using the private PostgreSQL already running");
        return Ok(url);
    }
    let bin = installed_postgres_bin()?;
    let data_dir = std::path::absolute(data_dir)?;
    let cluster = data_dir.join("pg");
    std::fs::create_dir_all(&data_dir)?;
    let as_root = run_as_postgres_user();
    if as_root {
        // PostgreSQL refuses to run as root: hand the directory to the postgres user.
        run(Command::new("chown")
            .arg("postgres:postgres")
            .arg(&data_dir))?;
    }
    if !cluster.join("PG_VERSION").exists() {
        run(pg_command(&bin, "initdb", as_root)
            .args(["-U", "postgres", "-A", "trust", "-E", "UTF8", "-D"])
            .arg(&cluster))?;
    }
    let opts = format!(
        "-p {PRIVATE_PORT} -c listen_addresses=127.0.0.1 -k {}",
        data_dir.display()
    );
    run(pg_command(&bin, "pg_ctl", as_root)
        .args(["-w", "-t", "60", "-D"])
        .arg(&cluster)
        .args(["-l"])
        .arg(data_dir.join("postgres.log"))
        .args(["-o", &opts, "start"]))?;
    tracing::warn!(
        %url,
        binaries = %bin.display(),
        cluster = %cluster.display(),
        "no PostgreSQL answered at the default address, so Keel started a private one; \
         stop it with `pg_ctl -D {} stop`",
        cluster.display()
    );
    Ok(url)
}

fn installed_postgres_bin() -> anyhow::Result<PathBuf> {
    let mut candidates: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|dir| {
            dir.filter_map(|e| e.ok().map(|e| e.path().join("bin")))
                .collect()
        })
        .unwrap_or_default();
    candidates.retain(|p| p.join("initdb").exists() && p.join("pg_ctl").exists());
    candidates.sort();
    match candidates.pop() {
        Some(bin) => Ok(bin),
        None => bail!(
            "no PostgreSQL answered at {DEFAULT_DATABASE_URL} and no PostgreSQL binaries \
             were found under /usr/lib/postgresql; install PostgreSQL or set DATABASE_URL"
        ),
    }
}

fn run_as_postgres_user() -> bool {
    // `id -u` avoids unsafe libc calls; root is the only case that needs the switch.
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.trim_ascii() == b"0")
}

fn pg_command(bin: &Path, tool: &str, as_root: bool) -> Command {
    if as_root {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(bin.join(tool));
        c
    } else {
        Command::new(bin.join(tool))
    }
}

fn run(cmd: &mut Command) -> anyhow::Result<()> {
    let out = cmd.output().with_context(|| format!("starting {cmd:?}"))?;
    if !out.status.success() {
        bail!(
            "{cmd:?} failed: {}",
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(())
}

/// Refreshes the planner's statistics of every table. After a bulk load the planner would
/// otherwise plan with the empty tables' estimates until autovacuum (if it runs at all) gets
/// round to them: sequential scans where an index range is right, nested loops over
/// thousands of rows.
pub async fn analyze(pool: &PgPool) -> anyhow::Result<()> {
    statement(pool, "analyze").await
}

/// After a bulk load, also vacuums: one sequential pass marks every loaded row's commit as
/// known and its page all-visible. Otherwise the first queries over the loaded history
/// (training's) do that as they read, writing each page back, and cannot use index-only scans.
pub async fn vacuum_analyze(pool: &PgPool) -> anyhow::Result<()> {
    statement(pool, "vacuum (analyze)").await
}

async fn statement(pool: &PgPool, sql: &'static str) -> anyhow::Result<()> {
    sqlx::query(sql)
        .execute(pool)
        .await
        .context("refreshing planner statistics")?;
    Ok(())
}

/// Takes the days noted in `table` (days with usage written since its reader last looked),
/// sorted and each once, in the caller's transaction: another reader taking them meanwhile
/// waits for the caller's commit, and a rollback leaves them noted.
pub async fn take_days(
    conn: &mut sqlx::PgConnection,
    table: &str,
) -> sqlx::Result<Vec<time::Date>> {
    sqlx::query_scalar(&format!(
        "with taken as (delete from {table} returning day)
         select coalesce(array_agg(distinct day order by day), '{{}}') from taken"
    ))
    .fetch_one(conn)
    .await
}

/// Runs a statement over the usage of `days` (sorted) as one statement per slice of the
/// account ids, all at once: one per core (at most 8), each its own transaction. Binds the
/// days ($1), the first and last of them ($2, $3: a range the day's BRIN index can narrow a
/// scan by) and the slice's bounds, `[$4, $5)` (`$5` null for the last slice).
pub async fn by_account_slices(pool: &PgPool, sql: &str, days: &[time::Date]) -> sqlx::Result<()> {
    let (Some(first), Some(last)) = (days.first(), days.last()) else {
        return Ok(());
    };
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get().min(8));
    let statements = slices(cores).into_iter().map(|(from, to)| async move {
        let mut tx = pool.begin().await?;
        // A year of days makes these statements look costly enough to compile, which then
        // takes longer than it saves: 6.9 s -> 5.2 s for a year at 4,200 accounts.
        sqlx::query("set local jit = off").execute(&mut *tx).await?;
        sqlx::query(sql)
            .bind(days)
            .bind(first)
            .bind(last)
            .bind(from)
            .bind(to)
            .execute(&mut *tx)
            .await?;
        tx.commit().await
    });
    futures_util::future::try_join_all(statements).await?;
    Ok(())
}

/// The account ids split into `n` ranges: account ids are random, so the slices are about
/// even.
fn slices(n: usize) -> Vec<(uuid::Uuid, Option<uuid::Uuid>)> {
    // The first byte splits the range; the rest are zero.
    let bound = |i: usize| uuid::Uuid::from_u128(((i * 256 / n) as u128) << 120);
    (0..n)
        .map(|i| (bound(i), (i + 1 < n).then(|| bound(i + 1))))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    /// Every account id falls in exactly one slice, whatever the number of slices: none is
    /// counted twice or left out.
    #[test]
    fn the_slices_cover_every_account_id_once() {
        let ids = [
            Uuid::nil(),
            Uuid::max(),
            Uuid::from_u128(0x7fff_ffff_ffff_ffff_ffff_ffff_ffff_ffff),
            Uuid::from_u128(0x8000_0000_0000_0000_0000_0000_0000_0000),
            Uuid::from_u128(0x5555_0000_0000_0000_0000_0000_0000_0000),
            Uuid::from_u128(0x5600_0000_0000_0000_0000_0000_0000_0000),
            Uuid::from_u128(0x55ff_ffff_ffff_ffff_ffff_ffff_ffff_ffff),
            Uuid::from_u128(0xdead_beef_0000_4000_8000_0000_0000_0001),
        ];
        for n in [1, 2, 3, 7, 8] {
            let slices = slices(n);
            assert_eq!(slices.len(), n);
            for id in ids {
                let holding = slices
                    .iter()
                    .filter(|(from, to)| id >= *from && to.is_none_or(|to| id < to))
                    .count();
                assert_eq!(holding, 1, "{id} in {n} slices");
            }
        }
    }
}

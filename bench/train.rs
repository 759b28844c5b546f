//! Training time and model quality on a database's snapshots (e.g. the demo's): both
//! models, walk-forward, against the naive baseline.
//!
//!     DATABASE_URL=postgres://…/keel cargo bench --bench train
//!
//! Reads only; registers nothing.

use std::io::Write;
use std::time::Instant;

use keel::model::train::{Algorithm, walk_forward};
use keel::model::training::{HORIZON_DAYS, MIN_HISTORY, snapshot_dataset};
use sqlx::postgres::PgPoolOptions;
use time::OffsetDateTime;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let url = std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/keel".into());
    let pool = PgPoolOptions::new()
        .max_connections(4)
        .connect(&url)
        .await?;
    let today = OffsetDateTime::now_utc().date();
    let started = Instant::now();
    let (data, dates) = snapshot_dataset(&pool, today).await?;
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "snapshots: {} rows from {} dates, churn rate {:.3}, built in {:.1} s",
        data.y.len(),
        dates.len(),
        data.churn_rate(),
        started.elapsed().as_secs_f64()
    )?;
    for algorithm in Algorithm::ALL {
        let started = Instant::now();
        let v = walk_forward(algorithm, &data, MIN_HISTORY, HORIZON_DAYS)?;
        let secs = started.elapsed().as_secs_f64();
        writeln!(
            out,
            "{:<24} {} folds in {secs:.1} s  {}",
            algorithm.as_str(),
            v.folds.len(),
            v.overall.summary()
        )?;
        for fold in &v.folds {
            writeln!(out, "    {}", fold.summary())?;
        }
    }
    Ok(())
}

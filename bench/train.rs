//! Training time and model quality on a database's snapshots (e.g. the demo's): both
//! models, walk-forward, against the naive baseline.
//!
//!     DATABASE_URL=postgres://…/keel cargo bench --bench train
//!
//! Reads only; registers nothing.

use std::io::Write;
use std::time::Instant;

use keel::features;
use keel::model::train::{Algorithm, Dataset, walk_forward};
use keel::model::training::snapshot_dates;
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
    let first = features::db::first_usage_day(&pool)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no usage in {url}"))?;
    let dates = snapshot_dates(first, today);
    let started = Instant::now();
    let mut data = Dataset::default();
    for (table, labels) in features::snapshots(&pool, &dates, today).await? {
        for (row, label) in table.rows.iter().zip(labels) {
            data.x.push(row.to_vec());
            data.y.push(label);
            data.dates.push(table.as_of);
        }
    }
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "snapshots: {} rows from {} dates, churn rate {:.3}, built in {:.1} s",
        data.y.len(),
        dates.len(),
        data.churn_rate(),
        started.elapsed().as_secs_f64()
    )?;
    let f = |v: Option<f64>| v.map_or_else(|| "n/a".to_owned(), |v| format!("{v:.3}"));
    for algorithm in Algorithm::ALL {
        let started = Instant::now();
        let v = walk_forward(algorithm, &data, 3, 60)?;
        let secs = started.elapsed().as_secs_f64();
        let r = &v.overall;
        writeln!(
            out,
            "{:<24} {} folds in {secs:.1} s  AUC {}  AUC-PR {}  P@80%R {}  Brier {:.4} (naive {:.4})  ECE {:.3}  lift@10 {}",
            algorithm.as_str(),
            v.folds.len(),
            f(r.auc_roc),
            f(r.auc_pr),
            f(r.precision_at_80_recall),
            r.brier,
            r.baseline_brier,
            r.ece,
            f(r.lift.first().copied())
        )?;
        for fold in &v.folds {
            writeln!(
                out,
                "    fold {}: train {} rows, AUC {}, ECE {:.3}",
                fold.test_date,
                fold.train_rows,
                f(fold.report.auc_roc),
                fold.report.ece
            )?;
        }
    }
    Ok(())
}

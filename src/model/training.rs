//! `keel train`: snapshots from the database → walk-forward validation of both models →
//! final fits → the registry. When none is in production, the best model that passes the
//! guard (beats the naive baseline, is calibrated) is promoted.

use std::time::Instant;

use serde_json::json;
use sqlx::PgPool;
use time::{Date, Duration};
use uuid::Uuid;

use super::guard;
use super::metrics::Report;
use super::registry::{self, NewModel};
use super::screen::{self, Screened};
use super::train::{Algorithm, Dataset, Model, walk_forward};
use crate::auth::audit::{self, Actor};
use crate::features::{self, Candidate, FEATURES, FeatureTable};

/// Snapshot spacing, label horizon and how many snapshots precede the first test fold.
const STEP_DAYS: i64 = 28;
pub use crate::features::HORIZON_DAYS;
pub const MIN_HISTORY: usize = 3;

pub struct Trained {
    pub rows: usize,
    pub dates: usize,
    /// Each version, its pooled walk-forward report and the guard's objections.
    pub versions: Vec<(Uuid, Algorithm, Report, Vec<String>)>,
    pub promoted: Option<Uuid>,
    /// Whether a model was already in production (and so stays).
    pub had_production: bool,
    /// Features that carry nothing to learn from, and why.
    pub unused: Vec<(String, &'static str)>,
    /// The candidate features screened, strongest first, with their verdicts.
    pub screened: Vec<Screened>,
    pub seconds: f64,
}

impl Trained {
    /// What became of production, in a sentence.
    pub fn outcome(&self) -> String {
        match (self.promoted, self.had_production) {
            (Some(id), _) => format!("promoted {id} to production"),
            (None, true) => {
                "the production model stays (promote a new version on the Models page)".into()
            }
            (None, false) => "nothing promoted: no version passed the guard (it must beat the \
                naive baseline and be calibrated), so there are no churn scores until one does"
                .into(),
        }
    }
}

/// Snapshot dates: every four weeks from 30 days into the usage history to the last date
/// whose 60-day label has matured.
pub fn snapshot_dates(first_usage: Date, today: Date) -> Vec<Date> {
    let mut d = first_usage + Duration::days(30);
    let mut out = Vec::new();
    while d + Duration::days(HORIZON_DAYS) <= today {
        out.push(d);
        d += Duration::days(STEP_DAYS);
    }
    out
}

/// Every labelled snapshot of the usage history, with the candidates screening kept.
struct Snapshots {
    tables: Vec<(FeatureTable, Vec<bool>)>,
    dates: Vec<Date>,
    screened: Vec<Screened>,
}

impl Snapshots {
    /// Every column's name (the first table's: all share them).
    fn names(&self) -> Vec<String> {
        self.tables.first().map_or_else(
            || FEATURES.iter().map(|f| (*f).to_owned()).collect(),
            |(t, _)| t.names(),
        )
    }
}

/// Screens the offered candidates on the snapshots before the first walk-forward test date,
/// so that no fold's test labels choose its columns.
fn screen_early(tables: &[(FeatureTable, Vec<bool>)]) -> (Vec<Screened>, Vec<usize>) {
    let early = &tables[..tables.len().min(MIN_HISTORY)];
    let column = |pick: &dyn Fn(&FeatureTable, usize) -> f64| -> Vec<f64> {
        early
            .iter()
            .flat_map(|(t, _)| (0..t.accounts.len()).map(|i| pick(t, i)))
            .collect()
    };
    let fixed: Vec<(String, Vec<f64>)> = FEATURES
        .iter()
        .enumerate()
        .map(|(j, f)| ((*f).to_owned(), column(&|t, i| t.rows[i][j])))
        .collect();
    let offered = early.first().map_or(&[][..], |(t, _)| &t.candidates[..]);
    let candidates: Vec<(String, Vec<f64>)> = offered
        .iter()
        .enumerate()
        .map(|(j, c)| (c.name(), column(&|t, i| t.extra[i][j])))
        .collect();
    let labels: Vec<bool> = early.iter().flat_map(|(_, l)| l.iter().copied()).collect();
    screen::screen(&fixed, &candidates, &labels)
}

/// Every labelled snapshot of the usage history: the fixed features and the measures of
/// the most widespread event types, screened, with their labels.
async fn labelled_snapshots(pool: &PgPool, today: Date) -> anyhow::Result<Snapshots> {
    // Right after a bulk load, no day range of the usage indexes is summarised yet, and
    // every snapshot would read all history (a 4,200-account demo trains in 31 s, not 11).
    features::db::summarize_usage_days(pool).await?;
    let (first, last) = features::db::usage_span(pool)
        .await?
        .ok_or_else(|| anyhow::anyhow!("no product usage yet: ingest events before training"))?;
    // The data's own span: a historical export ends where its events end, not today.
    let end = today.min(last);
    let dates = snapshot_dates(first, end);
    let offered: Vec<Candidate> = crate::taxonomy::catalog::widespread(pool, screen::POOL)
        .await?
        .iter()
        .flat_map(|t| Candidate::both(t))
        .collect();
    let mut tables = features::snapshots(pool, &dates, end, &offered).await?;
    let (screened, kept) = if tables.is_empty() {
        (Vec::new(), Vec::new())
    } else {
        screen_early(&tables)
    };
    for (t, _) in &mut tables {
        t.candidates = kept.iter().map(|&j| offered[j].clone()).collect();
        t.extra = t
            .extra
            .iter()
            .map(|e| kept.iter().map(|&j| e[j]).collect())
            .collect();
    }
    Ok(Snapshots {
        tables,
        dates,
        screened,
    })
}

/// Every labelled snapshot of the usage history, as one dataset, and the snapshot dates.
pub async fn snapshot_dataset(pool: &PgPool, today: Date) -> anyhow::Result<(Dataset, Vec<Date>)> {
    let snapshots = labelled_snapshots(pool, today).await?;
    Ok((dataset(&snapshots), snapshots.dates))
}

fn dataset(snapshots: &Snapshots) -> Dataset {
    let mut data = Dataset::default();
    for (table, labels) in &snapshots.tables {
        for (row, label) in table.x().into_iter().zip(labels) {
            data.x.push(row);
            data.y.push(*label);
            data.dates.push(table.as_of);
        }
    }
    data
}

/// Writes the snapshots `keel train` learns from as CSV (`as_of`, `account_id`, the
/// features and the candidates screening kept, `churned_within_60d`; an empty cell where a
/// feature has no data), so that `keel model evaluate` or a notebook can be run on exactly
/// the same rows. Returns the number of rows.
pub async fn export_snapshots(
    pool: &PgPool,
    today: Date,
    out: impl std::io::Write,
) -> anyhow::Result<usize> {
    let snapshots = labelled_snapshots(pool, today).await?;
    let mut csv = crate::web::csv::Writer::new(out);
    let mut header = vec!["as_of".to_owned(), "account_id".to_owned()];
    header.extend(snapshots.names());
    header.push("churned_within_60d".to_owned());
    csv.record(&header)?;
    let mut rows = 0;
    for (table, labels) in &snapshots.tables {
        for ((account, row), label) in table.accounts.iter().zip(table.x()).zip(labels) {
            let mut record = vec![table.as_of.to_string(), account.to_string()];
            record.extend(row.iter().map(|v| {
                if v.is_nan() {
                    String::new()
                } else {
                    v.to_string()
                }
            }));
            record.push(u8::from(*label).to_string());
            csv.record(&record)?;
            rows += 1;
        }
    }
    csv.into_inner()?;
    Ok(rows)
}

pub async fn train(pool: &PgPool, today: Date, actor: &Actor) -> anyhow::Result<Trained> {
    let started = Instant::now();
    let snapshots = labelled_snapshots(pool, today).await?;
    let (data, dates, names) = (dataset(&snapshots), &snapshots.dates, snapshots.names());
    let kept: Vec<Candidate> = snapshots
        .tables
        .first()
        .map(|(t, _)| t.candidates.clone())
        .unwrap_or_default();
    anyhow::ensure!(
        dates.len() > MIN_HISTORY,
        "{} snapshot dates; at least {} are needed (a longer history)",
        dates.len(),
        MIN_HISTORY + 1
    );
    let unused: Vec<(String, &'static str)> = names
        .iter()
        .zip(guard::uninformative(&data.x, names.len()))
        .filter_map(|(f, why)| Some((f.clone(), why?)))
        .collect();
    let data = std::sync::Arc::new(data);
    // Drift is measured against the training distribution of each feature.
    let reference = serde_json::to_value(super::monitor::reference(&data.x))?;
    // Each algorithm validates and fits on a core of its own, both at once; they are
    // registered one after the other, in `Algorithm::ALL` order.
    let fits: Vec<_> = Algorithm::ALL
        .into_iter()
        .map(|algorithm| {
            let d = data.clone();
            let candidates = kept.clone();
            let fit = tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
                let validation = walk_forward(algorithm, &d, MIN_HISTORY, HORIZON_DAYS)?;
                let mut model = Model::fit(algorithm, &d)?;
                model.candidates = candidates;
                let sample: Vec<Vec<f64>> =
                    d.x.iter()
                        .step_by((d.x.len() / 2000).max(1))
                        .cloned()
                        .collect();
                let importance = model.importance(&sample);
                Ok((validation, model, importance))
            });
            (algorithm, fit)
        })
        .collect();
    let mut versions = Vec::new();
    for (algorithm, fit) in fits {
        let (validation, model, importance) = fit.await??;
        let folds: Vec<_> = validation
            .folds
            .iter()
            .map(|f| json!({"test_date": f.test_date.to_string(), "train_rows": f.train_rows, "report": f.report}))
            .collect();
        let importance: serde_json::Map<String, serde_json::Value> = names
            .iter()
            .zip(importance)
            .map(|(f, v)| (f.to_string(), json!(v)))
            .collect();
        let objections = guard::objections(&validation.overall);
        let unused_json: serde_json::Map<String, serde_json::Value> = unused
            .iter()
            .map(|(f, why)| (f.to_string(), json!(why)))
            .collect();
        let mut tx = pool.begin().await?;
        let id = registry::insert(
            &mut *tx,
            &NewModel {
                algorithm: algorithm.as_str(),
                train_from: dates[0],
                train_to: dates[dates.len() - 1],
                rows: data.y.len() as i32,
                metrics: json!({
                    "overall": validation.overall, "folds": folds,
                    "objections": objections, "unused_features": unused_json,
                    "candidates": snapshots.screened
                }),
                importance: serde_json::Value::Object(importance),
                artefact: serde_json::to_value(&model)?,
                reference: &reference,
                created_by: &actor.label(),
            },
        )
        .await?;
        let details = json!({"algorithm": algorithm.as_str(), "rows": data.y.len(), "auc": validation.overall.auc_roc});
        audit::record(
            &mut *tx,
            actor,
            "model.train",
            Some(format!("model:{id}")),
            details,
        )
        .await?;
        tx.commit().await?;
        versions.push((id, algorithm, validation.overall, objections));
    }
    let had_production = registry::production(pool).await?.is_some();
    let promoted = if had_production {
        None
    } else {
        let best = versions
            .iter()
            .filter(|v| v.3.is_empty())
            .max_by(|a, b| {
                a.2.auc_roc
                    .unwrap_or(0.0)
                    .total_cmp(&b.2.auc_roc.unwrap_or(0.0))
            })
            .map(|v| v.0);
        if let Some(id) = best {
            promote(pool, actor, id).await?;
        }
        best
    };
    Ok(Trained {
        rows: data.y.len(),
        dates: dates.len(),
        versions,
        promoted,
        had_production,
        unused,
        screened: snapshots.screened,
        seconds: started.elapsed().as_secs_f64(),
    })
}

pub async fn promote(pool: &PgPool, actor: &Actor, id: Uuid) -> anyhow::Result<bool> {
    let done = registry::promote(pool, id).await?;
    if done {
        audit::record(
            pool,
            actor,
            "model.promote",
            Some(format!("model:{id}")),
            json!({}),
        )
        .await?;
    }
    Ok(done)
}

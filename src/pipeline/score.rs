//! Steps 3 and 4 of the daily run: score the day's feature table, then flag at-risk and
//! write the day's scores in one transaction. Beside both, on a connection of its own, the
//! usage history gives the scores' anomalies and champion watch (they read no score); they
//! are written in that same transaction, which the caller commits.

use std::sync::Arc;

use sqlx::{PgPool, Postgres, Transaction};
use time::Date;
use uuid::Uuid;

use super::Log;
use crate::features::FeatureTable;
use crate::health::config::Settings;
use crate::model::train::Model;
use crate::scores::{self, db::ScoreRows, scoring};

/// The day's scores, written in `tx` (not committed yet), and how many rows went in.
pub(super) struct Written {
    pub rows: ScoreRows,
    pub tx: Transaction<'static, Postgres>,
    pub written: u64,
}

pub(super) async fn score_and_write(
    pool: &PgPool,
    (day, run_id): (Date, i64),
    table: Arc<FeatureTable>,
    settings: &Settings,
    model: Option<&(Uuid, Arc<Model>)>,
    log: &mut Log,
) -> anyhow::Result<Written> {
    let scored = async {
        let rows =
            scoring::score_population(table, settings.clone(), model.map(|m| m.1.clone())).await?;
        log.stage(
            "score",
            if model.is_some() { "ok" } else { "warning" },
            match model {
                Some((id, m)) => format!(
                    "health and churn probability for {} accounts (model {} {id})",
                    rows.account.len(),
                    m.algorithm.as_str()
                ),
                None => format!(
                    "health for {} accounts; no model in production, so no churn probability (train one)",
                    rows.account.len()
                ),
            },
        );
        let mut tx = pool.begin().await?;
        let by = scores::db::Provenance {
            run: run_id,
            model: model.map(|m| m.0),
            config: settings.id,
        };
        let written = scores::db::replace_scores(&mut tx, day, by, &rows).await?;
        anyhow::Ok(Written { rows, tx, written })
    };
    let notes = async { anyhow::Ok(scores::notes::find(pool, day, None).await?) };
    let (notes, mut done) = tokio::try_join!(notes, scored)?;
    scores::notes::write(&mut done.tx, day, &notes).await?;
    Ok(done)
}

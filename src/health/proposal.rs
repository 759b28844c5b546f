//! A scoring configuration proposed on the Scoring page: the typed form, its rules
//! (weights 0–100 adding up to 100, bands and tiers in order) with every problem named by
//! its field, and saving it as a new version with its audit row in one transaction.

use std::collections::HashMap;

use serde::Deserialize;
use serde_json::json;
use sqlx::PgPool;

use super::config::Thresholds;
use super::db::{self as config_db, NewHealthConfig};
use super::score::{Bands, DEFAULT_SIGNALS, Signal};
use crate::auth::audit::{self, Actor};
use crate::auth::users::FormErrors;
use crate::error::Result;

/// The Scoring form as posted: the fixed fields, and a weight `w_<feature>` per signal.
#[derive(Debug, Default, Deserialize)]
pub struct ScoringForm {
    #[serde(default)]
    pub red_max: String,
    #[serde(default)]
    pub yellow_max: String,
    #[serde(default)]
    pub high: String,
    #[serde(default)]
    pub medium: String,
    #[serde(default)]
    pub at_risk: String,
    #[serde(default)]
    pub note: String,
    /// Present when the back-test should also calibrate the bands.
    #[serde(default)]
    pub calibrate: Option<String>,
    #[serde(flatten)]
    pub weights: HashMap<String, String>,
}

impl ScoringForm {
    /// The weight typed for a signal, trimmed (empty when absent).
    pub fn weight(&self, feature: &str) -> &str {
        self.weights
            .get(&format!("w_{feature}"))
            .map_or("", |v| v.trim())
    }
}

/// A proposal, checked: weights 0–100 adding up to 100, bands and tiers in order.
#[derive(Debug)]
pub struct Proposal {
    pub signals: Vec<Signal>,
    pub bands: Bands,
    pub thresholds: Thresholds,
}

fn number(errors: &mut FormErrors, field: &'static str, raw: &str, lo: f64, hi: f64) -> f64 {
    match raw.parse::<f64>() {
        Ok(v) if v.is_finite() && (lo..=hi).contains(&v) => v,
        Ok(_) => {
            errors.add(field, format!("must be between {lo} and {hi}"));
            f64::NAN
        }
        Err(_) => {
            errors.add(field, format!("'{raw}' is not a number"));
            f64::NAN
        }
    }
}

pub fn check(form: &ScoringForm) -> std::result::Result<Proposal, FormErrors> {
    let mut errors = FormErrors::default();
    let mut signals = Vec::new();
    for template in DEFAULT_SIGNALS.iter() {
        let w = number(
            &mut errors,
            template.feature,
            form.weight(template.feature),
            0.0,
            100.0,
        );
        if w > 0.0 {
            signals.push(Signal {
                weight: w,
                ..template.clone()
            });
        }
    }
    let total: f64 = signals.iter().map(|s| s.weight).sum();
    if errors.is_empty() && (total - 100.0).abs() > 0.01 {
        errors.add(
            "weights",
            format!("the weights add up to {total:.2} %; they must add up to 100 %"),
        );
    }
    let red_max = number(&mut errors, "red_max", form.red_max.trim(), 0.0, 100.0);
    let yellow_max = number(
        &mut errors,
        "yellow_max",
        form.yellow_max.trim(),
        0.0,
        100.0,
    );
    if red_max >= yellow_max {
        errors.add(
            "yellow_max",
            "the yellow band must end above where the red band ends",
        );
    }
    let high = number(&mut errors, "high", form.high.trim(), 0.0, 1.0);
    let medium = number(&mut errors, "medium", form.medium.trim(), 0.0, 1.0);
    let at_risk = number(&mut errors, "at_risk", form.at_risk.trim(), 0.0, 1.0);
    if medium >= high {
        errors.add("high", "the high tier must start above the medium tier");
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Proposal {
        signals,
        bands: Bands {
            red_max,
            yellow_max,
        },
        thresholds: Thresholds {
            high,
            medium,
            at_risk,
        },
    })
}

/// Saves a proposal as the new configuration version; its id, or the problems.
pub async fn save(
    pool: &PgPool,
    actor: &Actor,
    form: &ScoringForm,
) -> Result<std::result::Result<i64, FormErrors>> {
    let proposal = match check(form) {
        Ok(p) => p,
        Err(errors) => return Ok(Err(errors)),
    };
    let note = match form.note.trim() {
        "" => "edited",
        n => n,
    };
    let config = NewHealthConfig {
        signals: serde_json::to_value(&proposal.signals).map_err(anyhow::Error::from)?,
        bands: proposal.bands,
        thresholds: proposal.thresholds,
        note,
    };
    let mut tx = pool.begin().await?;
    let id = config_db::insert_health_config(&mut *tx, &config, &actor.label()).await?;
    audit::record(
        &mut *tx,
        actor,
        "scoring.configure",
        Some(format!("health_config:{id}")),
        json!({"signals": config.signals, "bands": [proposal.bands.red_max, proposal.bands.yellow_max],
               "thresholds": proposal.thresholds, "note": note}),
    )
    .await?;
    tx.commit().await?;
    Ok(Ok(id))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The default weights, bands and tiers, as the page first shows them.
    fn defaults() -> ScoringForm {
        ScoringForm {
            red_max: "40".into(),
            yellow_max: "70".into(),
            high: "0.6".into(),
            medium: "0.3".into(),
            at_risk: "0.5".into(),
            weights: DEFAULT_SIGNALS
                .iter()
                .map(|s| (format!("w_{}", s.feature), s.weight.to_string()))
                .collect(),
            ..ScoringForm::default()
        }
    }

    #[test]
    fn the_defaults_pass_and_zero_weights_drop_their_signal() {
        let p = check(&defaults()).unwrap();
        assert_eq!(
            p.signals.len(),
            DEFAULT_SIGNALS.iter().filter(|s| s.weight > 0.0).count()
        );
        assert_eq!(p.bands.red_max, 40.0);
        assert_eq!(p.thresholds.at_risk, 0.5);
    }

    #[test]
    fn weights_must_add_up_to_a_hundred_and_bands_and_tiers_stay_in_order() {
        let mut form = defaults();
        let first = DEFAULT_SIGNALS[0].feature;
        let w: f64 = form.weight(first).parse().unwrap();
        form.weights
            .insert(format!("w_{first}"), (w + 5.0).to_string());
        form.yellow_max = "30".into();
        form.medium = "0.7".into();
        form.at_risk = "lots".into();
        let errors = check(&form).unwrap_err();
        assert_eq!(
            errors.get("weights"),
            Some("the weights add up to 105.00 %; they must add up to 100 %")
        );
        assert_eq!(
            errors.get("yellow_max"),
            Some("the yellow band must end above where the red band ends")
        );
        assert_eq!(
            errors.get("high"),
            Some("the high tier must start above the medium tier")
        );
        assert_eq!(errors.get("at_risk"), Some("'lots' is not a number"));
        // The sum is judged only once every weight is a number from 0 to 100.
        form.weights.insert(format!("w_{first}"), "101".into());
        let errors = check(&form).unwrap_err();
        assert_eq!(errors.get(first), Some("must be between 0 and 100"));
        assert_eq!(errors.get("weights"), None);
    }
}

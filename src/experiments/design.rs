//! Designing an experiment: the form as typed, checked into a design, and what the design
//! can detect given the eligible flow of the past weeks and the historical retention of
//! such accounts.

use std::collections::{HashMap, HashSet};

use sqlx::PgPool;
use time::{Date, Duration};
use uuid::Uuid;

use super::db::NewVariant;
use crate::playbooks::rules::Rule;
use crate::playbooks::{self, db as playbooks_db};
use crate::scores;
use crate::stats::power::min_detectable_rise;

/// Variant rows on the form.
pub const ROWS: usize = 4;
/// Without 90-day-old scores, the detectable difference assumes this baseline (the
/// proportion with the widest variance, so the estimate errs on the cautious side).
const ASSUMED_BASELINE: f64 = 0.5;

/// One variant row as typed.
#[derive(Clone, Debug, Default)]
pub struct VariantRow {
    pub name: String,
    pub description: String,
    pub allocation: String,
    pub playbook: String,
}

/// The form as typed.
#[derive(Clone, Debug)]
pub struct DesignForm {
    pub name: String,
    pub hypothesis: String,
    pub rule: String,
    pub duration: String,
    pub minimum: String,
    pub variants: Vec<VariantRow>,
}

impl DesignForm {
    pub fn blank() -> Self {
        let row = |name: &str, description: &str, allocation: &str| VariantRow {
            name: name.into(),
            description: description.into(),
            allocation: allocation.into(),
            playbook: String::new(),
        };
        DesignForm {
            name: String::new(),
            hypothesis: String::new(),
            rule: r#"{"tiers": ["high"], "status": "active"}"#.into(),
            duration: "60".into(),
            minimum: "100".into(),
            variants: vec![
                row("Control", "No play: business as usual", "33"),
                row("Variant A", "", "34"),
                row("Variant B", "", "33"),
                VariantRow::default(),
            ],
        }
    }

    /// From the posted pairs; the variant fields repeat once per row, in order.
    pub fn from_pairs(pairs: &[(String, String)]) -> Self {
        let one = |k: &str| {
            pairs
                .iter()
                .find(|(n, _)| n == k)
                .map(|(_, v)| v.trim().to_owned())
                .unwrap_or_default()
        };
        let many = |k: &str| -> Vec<String> {
            pairs
                .iter()
                .filter(|(n, _)| n == k)
                .map(|(_, v)| v.trim().to_owned())
                .collect()
        };
        let (names, descriptions, allocations, playbooks) = (
            many("variant_name"),
            many("variant_description"),
            many("variant_allocation"),
            many("variant_playbook"),
        );
        let at = |v: &[String], i: usize| v.get(i).cloned().unwrap_or_default();
        DesignForm {
            name: one("name"),
            hypothesis: one("hypothesis"),
            rule: one("rule"),
            duration: one("duration"),
            minimum: one("minimum"),
            variants: (0..names.len().clamp(ROWS, 8))
                .map(|i| VariantRow {
                    name: at(&names, i),
                    description: at(&descriptions, i),
                    allocation: at(&allocations, i),
                    playbook: at(&playbooks, i),
                })
                .collect(),
        }
    }

    /// The design, or every problem with the form named. `playbooks` are the ids a variant
    /// may run.
    pub fn check(&self, playbooks: &[i64]) -> Result<Checked, Vec<String>> {
        let mut errors = Vec::new();
        if self.name.is_empty() || self.name.chars().count() > 100 {
            errors.push("name: an experiment needs a name of at most 100 characters".into());
        }
        let rule = serde_json::from_str::<Rule>(&self.rule)
            .map_err(|e| errors.push(format!("eligibility: {e}")))
            .ok();
        let whole = |field: &str,
                     text: &str,
                     range: std::ops::RangeInclusive<i32>,
                     errors: &mut Vec<String>| {
            match text.parse::<i32>() {
                Ok(n) if range.contains(&n) => n,
                _ => {
                    errors.push(format!(
                        "{field}: '{text}' is not a whole number from {} to {}",
                        range.start(),
                        range.end()
                    ));
                    0
                }
            }
        };
        let duration_days = whole("duration", &self.duration, 7..=730, &mut errors);
        let min_per_variant = whole(
            "minimum per variant",
            &self.minimum,
            1..=100_000,
            &mut errors,
        );
        let mut variants = Vec::new();
        for (i, row) in self
            .variants
            .iter()
            .enumerate()
            .filter(|(_, r)| !r.name.is_empty())
        {
            let n = i + 1;
            let allocation = whole(
                &format!("variant {n} allocation"),
                &row.allocation,
                1..=99,
                &mut errors,
            );
            let playbook = match row.playbook.as_str() {
                "" => None,
                p => match p.parse::<i64>() {
                    Ok(id) if playbooks.contains(&id) => Some(id),
                    _ => {
                        errors.push(format!("variant {n} playbook: no playbook {p}"));
                        None
                    }
                },
            };
            variants.push(NewVariant {
                name: row.name.clone(),
                description: row.description.clone(),
                allocation,
                playbook,
            });
        }
        if variants.len() < 2 {
            errors.push("variants: a control and at least one variant to compare with it".into());
        }
        let names: HashSet<&str> = variants.iter().map(|v| v.name.as_str()).collect();
        if names.len() < variants.len() {
            errors.push("variants: each needs its own name".into());
        }
        let total: i32 = variants.iter().map(|v| v.allocation).sum();
        if total != 100 && errors.is_empty() {
            errors.push(format!("allocations: they add up to {total} %, not 100 %"));
        }
        match rule {
            Some(rule) if errors.is_empty() => Ok(Checked {
                name: self.name.clone(),
                hypothesis: self.hypothesis.clone(),
                rule,
                duration_days,
                min_per_variant,
                variants,
            }),
            _ => Err(errors),
        }
    }
}

/// A design whose every field is valid.
pub struct Checked {
    pub name: String,
    pub hypothesis: String,
    pub rule: Rule,
    pub duration_days: i32,
    pub min_per_variant: i32,
    pub variants: Vec<NewVariant>,
}

/// What a design can detect.
#[derive(Debug)]
pub struct Detectable {
    pub day: Date,
    pub eligible_now: usize,
    /// Accounts newly matching per week over the weeks seen.
    pub weekly_flow: f64,
    pub weeks_seen: i64,
    /// Expected accounts per variant by the end date.
    pub expected: Vec<(String, f64)>,
    /// Historical retention at 90 days of accounts the rule matched (rate, accounts, day).
    pub baseline: Option<(f64, usize, Date)>,
    pub assumed_baseline: f64,
    /// The smallest rise in retention over control detectable at 80 % power, α 0.05.
    pub rise: Option<f64>,
    pub reaches_minimum: bool,
}

/// What `d` can detect, from the scores of the last four weeks and of 90 days ago; `None`
/// before the first scores.
pub async fn detectable(pool: &PgPool, d: &Checked) -> anyhow::Result<Option<Detectable>> {
    let Some(latest) = scores::db::latest_day(pool).await? else {
        return Ok(None);
    };
    let matched = |day: Date| async move {
        let candidates = playbooks_db::candidates(pool, day).await?;
        anyhow::Ok(
            playbooks::matching(&d.rule, &candidates, day)
                .into_iter()
                .map(|(c, _)| c.account)
                .collect::<HashSet<Uuid>>(),
        )
    };
    let now = matched(latest).await?;
    // Arrivals: accounts matching on a snapshot that did not on the one before.
    let (mut newer, mut arrivals, mut oldest) = (now.clone(), 0, latest);
    for k in 1..=4 {
        let Some(day) =
            scores::reads::scored_on_or_before(pool, latest - Duration::weeks(k)).await?
        else {
            break;
        };
        if day >= oldest {
            continue;
        }
        let older = matched(day).await?;
        arrivals += newer.difference(&older).count();
        (newer, oldest) = (older, day);
    }
    let weeks_seen = (latest - oldest).whole_weeks();
    let weekly_flow = if weeks_seen > 0 {
        arrivals as f64 / weeks_seen as f64
    } else {
        0.0
    };
    let total = now.len() as f64 + weekly_flow * f64::from(d.duration_days) / 7.0;
    let sum: i32 = d.variants.iter().map(|v| v.allocation).sum::<i32>().max(1);
    let expected: Vec<(String, f64)> = d
        .variants
        .iter()
        .map(|v| {
            (
                v.name.clone(),
                total * f64::from(v.allocation) / f64::from(sum),
            )
        })
        .collect();
    let baseline = match scores::reads::scored_on_or_before(pool, latest - Duration::days(90))
        .await?
    {
        Some(day) => {
            let cohort = matched(day).await?;
            let churned: HashMap<Uuid, Date> =
                sqlx::query_as("select id, churned_on from accounts where churned_on is not null")
                    .fetch_all(pool)
                    .await?
                    .into_iter()
                    .collect();
            let kept = cohort
                .iter()
                .filter(|a| churned.get(a).is_none_or(|c| (*c - day).whole_days() > 90))
                .count();
            (!cohort.is_empty()).then(|| (kept as f64 / cohort.len() as f64, cohort.len(), day))
        }
        None => None,
    };
    let p0 = baseline.map_or(ASSUMED_BASELINE, |b| b.0);
    // Control against the smallest treatment: the harmonic mean of their sizes.
    let control = expected.first().map_or(0.0, |e| e.1);
    let smallest = expected
        .iter()
        .skip(1)
        .map(|e| e.1)
        .fold(f64::INFINITY, f64::min);
    let n = if control > 0.0 && smallest.is_finite() && smallest > 0.0 {
        2.0 / (1.0 / control + 1.0 / smallest)
    } else {
        0.0
    };
    Ok(Some(Detectable {
        day: latest,
        eligible_now: now.len(),
        weekly_flow,
        weeks_seen,
        reaches_minimum: expected.iter().all(|e| e.1 >= f64::from(d.min_per_variant)),
        expected,
        baseline,
        assumed_baseline: ASSUMED_BASELINE,
        rise: min_detectable_rise(n, p0),
    }))
}

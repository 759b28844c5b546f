//! The account page's charts: health over time, and usage, one measure a chart with its own
//! axis and unit (three rescaled lines in one chart could not be read).

use super::db::ScorePoint;
use super::lists::UsageDay;
use crate::web::charts::{DatedChart, dated};
use crate::web::format::count;

/// A usage chart with the sentence it answers.
pub struct UsageChart {
    pub title: &'static str,
    pub chart: DatedChart,
}

/// Daily active users, core actions and feature areas used over the days given.
pub fn usage(days: &[UsageDay]) -> Vec<UsageChart> {
    let chart = |title: &'static str, value: fn(&UsageDay) -> i32, unit: fn(i64) -> String| {
        let points: Vec<_> = days.iter().map(|d| (d.day, f64::from(value(d)))).collect();
        UsageChart {
            title,
            chart: dated(title, &points, None, &[], |v| unit(v.round() as i64)),
        }
    };
    if days.is_empty() {
        return Vec::new();
    }
    vec![
        chart(
            "People active each day",
            |d| d.active_users,
            |n| count(n, "person", "people"),
        ),
        chart(
            "Core actions each day",
            |d| d.core_actions,
            |n| count(n, "action", "actions"),
        ),
        chart(
            "Feature areas used each day",
            |d| d.features,
            |n| count(n, "area", "areas"),
        ),
    ]
}

/// Health over the days given, on its 0–100 scale, with a mark where the scoring weights
/// changed.
pub fn history(history: &[ScorePoint]) -> Option<DatedChart> {
    history.first()?;
    let points: Vec<_> = history
        .iter()
        .map(|p| (p.day, f64::from(p.health_score)))
        .collect();
    let marks: Vec<_> = history
        .windows(2)
        .filter(|w| w[0].health_config_id != w[1].health_config_id)
        .map(|w| {
            (
                w[1].day,
                format!("weights v{}", w[1].health_config_id.unwrap_or(0)),
            )
        })
        .collect();
    Some(dated(
        "Health score (0 to 100), last 180 days; dashed lines mark changes of the scoring weights",
        &points,
        Some((0.0, 100.0)),
        &marks,
        |v| format!("health {v:.0}"),
    ))
}

//! The account page: header facts, health and churn with their drivers, score history,
//! usage, the timeline, contacts, and the forms to act; and the timeline alone for htmx.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use serde::Deserialize;
use time::Duration;
use uuid::Uuid;

use super::db::{self};
use super::scope_for;
use super::timeline::{self, Timeline, TimelineFragment};
use crate::auth::{CurrentUser, Role};
use crate::error::{AppError, Result};
use crate::money;
use crate::reasons::db::{ReasonCode, reason_codes};
use crate::segment::{self};
use crate::state::AppState;
use crate::web::charts;
use crate::web::format::{dollars, timestamp};
use crate::web::layout::Chrome;

pub struct Line {
    cells: Vec<String>,
}

/// The latest health and churn scores, ready to show.
pub struct ScoreView {
    day: String,
    health: String,
    band: String,
    churn: String,
    tier: String,
    at_risk: bool,
    drivers: Vec<String>,
    signals: Vec<(String, String, String)>,
    trajectory: String,
    decrement: Option<String>,
    anomaly: Option<String>,
    champion_loss: Option<String>,
    rescored: Option<String>,
    /// When health and the churn model disagree, why they can, in words.
    reading: Option<String>,
}

/// A plan code as a name: `business_plus` → "Business plus".
fn plan_label(plan: &str) -> String {
    let spaced = plan.replace('_', " ");
    let mut chars = spaced.chars();
    chars
        .next()
        .map_or_else(String::new, |c| c.to_uppercase().chain(chars).collect())
}

/// A health signal's name as people say it.
fn signal_label(feature: &str) -> String {
    match feature {
        "seat_utilization" => "Seats in use".into(),
        "features_adopted" => "Feature areas used (30 days)".into(),
        "usage_trend_ratio_7d_30d" => "Usage trend (last 7 days against 30)".into(),
        "days_since_last_login" => "Since the last login".into(),
        "downgraded_last_period" => "Downgraded at the last renewal".into(),
        "account_age_days" => "Time as a customer".into(),
        "urgent_tickets_30d" => "Urgent tickets (30 days)".into(),
        "support_tickets_30d" => "Support tickets (30 days)".into(),
        "avg_csat" => "Average CSAT".into(),
        "nps_score" => "Latest NPS answer".into(),
        other => other.replace('_', " "),
    }
}

/// A health signal's raw value with its unit.
fn signal_value(feature: &str, v: f64) -> String {
    use crate::web::format::count;
    match feature {
        "seat_utilization" => format!("{:.0} %", v * 100.0),
        "usage_trend_ratio_7d_30d" => format!("{v:.2}× (below 1 is falling)"),
        "days_since_last_login" | "account_age_days" => count(v.round() as i64, "day", "days"),
        "downgraded_last_period" => if v > 0.0 { "yes" } else { "no" }.into(),
        "urgent_tickets_30d" | "support_tickets_30d" => {
            count(v.round() as i64, "ticket", "tickets")
        }
        "features_adopted" => count(v.round() as i64, "area", "areas"),
        "avg_csat" => format!("{v:.1} of 5"),
        "nps_score" => format!("{v:.0} of 10"),
        _ => format!("{v:.2}"),
    }
}

fn score_view(s: crate::scores::db::LatestScore) -> ScoreView {
    let signals = s
        .signals
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(|sig| {
            let feature = sig.get("name").and_then(|v| v.as_str()).unwrap_or("");
            let value = sig
                .get("value")
                .and_then(|v| v.as_f64())
                .map_or_else(|| "no data".to_owned(), |v| signal_value(feature, v));
            let name = signal_label(feature);
            let weight = sig.get("weight").and_then(|v| v.as_f64()).unwrap_or(0.0);
            let norm = sig.get("normalised").and_then(|v| v.as_f64());
            let share = match norm {
                Some(n) => format!("{:.0} of {weight:.0} points", n * weight),
                None => "weight spread over the others".to_owned(),
            };
            (name, value, share)
        })
        .collect();
    let reading = reading(&s.band, s.risk_tier.as_deref(), &s.signals);
    ScoreView {
        day: s.day.to_string(),
        health: format!("{:.0}", s.health_score),
        band: s.band,
        churn: s.churn_probability.map_or_else(
            || "not scored".to_owned(),
            |p| format!("{:.1} %", p * 100.0),
        ),
        tier: s.risk_tier.unwrap_or_default(),
        at_risk: s.at_risk,
        drivers: s
            .drivers
            .as_array()
            .cloned()
            .unwrap_or_default()
            .iter()
            .filter_map(|d| d.get("text").and_then(|t| t.as_str()).map(str::to_owned))
            .collect(),
        signals,
        trajectory: s.trajectory.unwrap_or_else(|| "no history yet".into()),
        decrement: s.decrement.map(|d| {
            format!(
                "{} lost since the previous score",
                crate::web::format::count(d.round() as i64, "point", "points")
            )
        }),
        anomaly: s.anomaly,
        champion_loss: s.champion_loss,
        rescored: s.rescored_at.map(timestamp),
        reading,
    }
}

/// Health ranks an account against its segment's peers on fixed weights; the churn
/// probability is learned from what preceded churn in this company's history. When they
/// point opposite ways, the page says so and why, instead of showing both silently.
fn reading(band: &str, tier: Option<&str>, signals: &serde_json::Value) -> Option<String> {
    let mut weakest: Vec<(f64, &str)> = signals
        .as_array()?
        .iter()
        .filter_map(|s| Some((s.get("normalised")?.as_f64()?, s.get("name")?.as_str()?)))
        .collect();
    weakest.sort_by(|a, b| a.0.total_cmp(&b.0));
    let low: Vec<String> = weakest
        .iter()
        .take(2)
        .map(|(_, n)| signal_label(n))
        .collect();
    match (band, tier?) {
        ("red", "low") => Some(format!(
            "Health is low against this account's peers (weakest: {}), yet the churn model puts its risk low: in this company's history those signals have not preceded churn on their own. Check with the account before escalating.",
            low.join(", ")
        )),
        ("green", "high") => Some(
            "Health looks good against this account's peers, yet the churn model puts its risk high: it weighs what preceded churn here, which health's fixed weights do not. The drivers below say what it sees.".to_owned(),
        ),
        _ => None,
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "accounts/show.html")]
pub struct ShowPage {
    chrome: Chrome,
    name: String,
    score: Option<ScoreView>,
    facts: Vec<(&'static str, String)>,
    chart: charts::LinesChart,
    usage_summary: String,
    subscriptions: Vec<Line>,
    contacts: Vec<Line>,
    id: Uuid,
    history_chart: Option<charts::LineChart>,
    timeline: Timeline,
    can_act: bool,
    /// The day it churned, for a former customer: no renewal, no scores, no prediction to
    /// judge, nothing to snooze.
    churned: Option<String>,
    /// For admins: each contact's CRM id and name, to export or erase their personal data.
    personal: Vec<(String, String)>,
    open_tasks: Vec<(i64, String)>,
    feedback_reasons: Vec<ReasonCode>,
    snooze_reasons: Vec<ReasonCode>,
    today: String,
}

/// Daily active users, core actions and feature areas used over the last 90 days, each
/// scaled to its own maximum (the tooltips carry the numbers).
fn usage_chart(days: &[db::UsageDay]) -> charts::LinesChart {
    let first = days.first().map(|d| d.day);
    let series = |label: &str, value: fn(&db::UsageDay) -> i32| {
        let max = days.iter().map(value).max().unwrap_or(0).max(1) as f64;
        let points: Vec<(f64, f64)> = days
            .iter()
            .map(|d| {
                let x = first.map_or(0.0, |f| (d.day - f).whole_days() as f64);
                (x, 100.0 * f64::from(value(d)) / max)
            })
            .collect();
        (format!("{label} (max {max})"), points)
    };
    charts::lines(
        "Usage, last 90 days: daily active users, core actions, feature areas used",
        &[
            series("active users", |d| d.active_users),
            series("core actions", |d| d.core_actions),
            series("feature areas", |d| d.features),
        ],
    )
}

pub async fn show(
    State(state): State<AppState>,
    user: CurrentUser,
    chrome: Chrome,
    Path(id): Path<Uuid>,
) -> Result<ShowPage> {
    // Not visible and not existing look the same, so accounts cannot be enumerated.
    let a = db::find(&state.db, scope_for(&user), id)
        .await?
        .ok_or(AppError::NotFound)?;
    let today = state.clock.now().date();
    let usage = db::usage(&state.db, id, today - Duration::days(90)).await?;
    let renewal = match (a.churned_on, a.renewal_date) {
        (Some(_), _) => "none: no longer a customer".to_owned(),
        (None, Some(d)) => format!("{d} ({} days)", (d - today).whole_days()),
        (None, None) => String::new(),
    };
    let churned = a.churned_on.map(|d| d.to_string());
    let facts = vec![
        ("External id", a.external_id),
        ("Segment", segment::label_of(&a.segment).to_owned()),
        ("Plan", plan_label(&a.plan)),
        ("Seats", a.seats.to_string()),
        ("ARR", dollars(money::arr_cents(a.mrr_cents))),
        ("Renewal", renewal),
        ("Customer since", a.customer_since.to_string()),
        (
            "Status",
            a.churned_on
                .map_or(a.status.clone(), |d| format!("{} on {d}", a.status)),
        ),
        ("CSM", a.owner_name.unwrap_or_else(|| "unassigned".into())),
        ("Executive sponsor", a.executive_sponsor.unwrap_or_default()),
    ];
    let recent: Vec<&db::UsageDay> = usage.iter().rev().take(30).collect();
    let usage_summary = if recent.is_empty() {
        "No product usage in the last 90 days.".to_owned()
    } else {
        let avg = recent.iter().map(|d| d.active_users as f64).sum::<f64>() / 30.0;
        let core: i32 = recent.iter().map(|d| d.core_actions).sum();
        let features = recent.iter().map(|d| d.features).max().unwrap_or(0);
        format!(
            "Last 30 days: {avg:.1} active users a day, {core} core actions, up to {features} feature areas in a day."
        )
    };
    let line = |cells: Vec<String>| Line { cells };
    let contacts = db::contacts(&state.db, id).await?;
    let history = db::score_history(&state.db, id, today - Duration::days(180)).await?;
    let timeline = timeline::load(&state.db, id, None, &history).await?;
    let score = crate::scores::db::latest_score(&state.db, id)
        .await?
        .map(score_view);
    Ok(ShowPage {
        chrome,
        name: a.name,
        score,
        facts,
        chart: usage_chart(&usage),
        usage_summary,
        subscriptions: db::subscriptions(&state.db, id)
            .await?
            .into_iter()
            .map(|p| {
                line(vec![
                    p.period_start.to_string(),
                    p.period_end.to_string(),
                    plan_label(&p.plan),
                    p.seats.to_string(),
                    dollars(p.mrr_cents),
                ])
            })
            .collect(),
        contacts: contacts
            .iter()
            .cloned()
            .map(|c| {
                line(vec![
                    c.name.unwrap_or_default(),
                    c.title.unwrap_or_default(),
                    c.email.unwrap_or_else(|| "erased".into()),
                    if c.is_champion {
                        "champion".into()
                    } else {
                        String::new()
                    },
                    c.last_active.map_or_else(
                        || "never".into(),
                        |d| format!("{d} ({} days ago)", (today - d).whole_days()),
                    ),
                ])
            })
            .collect(),
        personal: if user.role == Role::Admin {
            contacts
                .iter()
                .map(|c| {
                    (
                        c.external_id.clone(),
                        c.name.clone().unwrap_or_else(|| "erased".into()),
                    )
                })
                .collect()
        } else {
            Vec::new()
        },
        id,
        history_chart: history_chart(&history),
        timeline,
        can_act: matches!(user.role, Role::Csm | Role::Manager),
        churned,
        open_tasks: db::tasks(&state.db, id)
            .await?
            .into_iter()
            .filter(|t| t.status == crate::statuses::TaskStatus::Open)
            .map(|t| (t.id, t.title))
            .collect(),
        feedback_reasons: reason_codes(&state.db, "feedback").await?,
        snooze_reasons: reason_codes(&state.db, "snooze").await?,
        today: today.to_string(),
    })
}

/// Health over the last 180 days, with a mark where the scoring configuration changed.
fn history_chart(history: &[db::ScorePoint]) -> Option<charts::LineChart> {
    let first = history.first()?.day;
    let points: Vec<(f64, f64)> = history
        .iter()
        .map(|p| {
            (
                (p.day - first).whole_days() as f64,
                f64::from(p.health_score),
            )
        })
        .collect();
    let marks: Vec<(f64, String)> = history
        .windows(2)
        .filter(|w| w[0].health_config_id != w[1].health_config_id)
        .map(|w| {
            (
                (w[1].day - first).whole_days() as f64,
                format!("weights v{}", w[1].health_config_id.unwrap_or(0)),
            )
        })
        .collect();
    Some(charts::line(
        "Health score, last 180 days; dashed lines mark changes of the scoring weights",
        &points,
        (0.0, 100.0),
        &marks,
    ))
}

#[derive(Deserialize)]
pub struct TimelineQuery {
    kind: Option<String>,
}

/// The timeline alone, filtered by kind (htmx swaps it in place).
pub async fn timeline(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<Uuid>,
    Query(q): Query<TimelineQuery>,
) -> Result<TimelineFragment> {
    db::find(&state.db, scope_for(&user), id)
        .await?
        .ok_or(AppError::NotFound)?;
    let kind = q.kind.as_deref().filter(|k| !k.is_empty());
    if let Some(k) = kind
        && !timeline::KINDS.iter().any(|(v, _)| *v == k)
    {
        return Err(AppError::BadRequest(format!(
            "kind: '{k}' is not a kind of timeline entry"
        )));
    }
    let today = state.clock.now().date();
    let history = db::score_history(&state.db, id, today - Duration::days(180)).await?;
    Ok(TimelineFragment {
        timeline: timeline::load(&state.db, id, kind, &history).await?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn health_signals_read_with_their_units() {
        assert_eq!(signal_label("account_age_days"), "Time as a customer");
        assert_eq!(plan_label("business_plus"), "Business plus");
        assert_eq!(signal_value("account_age_days", 165.0), "165 days");
        assert_eq!(signal_value("seat_utilization", 0.625), "62 %");
        assert_eq!(signal_value("downgraded_last_period", 1.0), "yes");
        assert_eq!(signal_value("urgent_tickets_30d", 1.0), "1 ticket");
        assert_eq!(signal_value("nps_score", 7.0), "7 of 10");
    }

    #[test]
    fn health_and_churn_risk_that_disagree_are_explained() {
        let signals = serde_json::json!([
            {"name": "nps_score", "normalised": 0.05},
            {"name": "seat_utilization", "normalised": 0.9},
            {"name": "avg_csat", "normalised": 0.1}
        ]);
        let low = reading("red", Some("low"), &signals).unwrap();
        assert!(
            low.contains("weakest: Latest NPS answer, Average CSAT"),
            "{low}"
        );
        assert!(reading("green", Some("high"), &signals).is_some());
        assert_eq!(reading("red", Some("high"), &signals), None, "they agree");
        assert_eq!(reading("yellow", Some("low"), &signals), None);
    }
}

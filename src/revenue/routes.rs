//! The executive's dashboard (`/dashboard`): executives, admins and analysts read the whole
//! book; a manager reads their team's. The ROI card recomputes from the reader's inputs
//! without saving anything, and every table downloads as CSV.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use uuid::Uuid;

use super::dashboard::{self, Figures, WINDOWS};
use super::read::{self, Filter};
use super::roi::{self, Inputs};
use crate::auth::{CurrentUser, Role, db as users};
use crate::error::{AppError, Result};
use crate::segment::Segment;
use crate::state::AppState;
use crate::web::format::{Choice, choices, money_short, percent};
use crate::web::layout::Chrome;

#[derive(Deserialize, Default)]
pub struct DashboardQuery {
    #[serde(default)]
    window: String,
    #[serde(default)]
    segment: String,
    #[serde(default)]
    team: String,
    #[serde(default)]
    cohorts: String,
}

impl DashboardQuery {
    fn window(&self) -> (&'static str, i32, &'static str) {
        WINDOWS
            .into_iter()
            .find(|w| w.0 == self.window)
            .unwrap_or(WINDOWS[0])
    }

    /// The accounts this reader may see, narrowed by the filters: a manager only their team.
    fn filter(&self, user: &CurrentUser) -> Result<Filter> {
        let segment = match self.segment.as_str() {
            "" => None,
            s => Some(
                Segment::parse(s)
                    .ok_or_else(|| {
                        AppError::BadRequest(format!("segment: '{s}' is not a segment"))
                    })?
                    .as_str()
                    .to_owned(),
            ),
        };
        let manager = match (user.role, self.team.as_str()) {
            (Role::Manager, _) => Some(user.id),
            (_, "") => None,
            (_, t) => Some(
                t.parse::<Uuid>()
                    .map_err(|_| AppError::BadRequest(format!("team: '{t}' is not a team")))?,
            ),
        };
        Ok(Filter { segment, manager })
    }
}

/// The ROI card: inputs as the reader left them, and the three cases.
pub struct RoiView {
    pub arr_at_risk: String,
    pub reduction: [String; 3],
    pub cost: [String; 3],
    pub margin: String,
    pub rows: Vec<[String; 4]>,
    /// The page's filters, carried through the ROI form.
    pub filters: [(&'static str, String); 3],
}

fn roi_view(i: &Inputs, query: &DashboardQuery) -> RoiView {
    let cases = roi::cases(i);
    let names = ["Best", "Likely", "Worst"];
    RoiView {
        arr_at_risk: format!("{:.0}", i.arr_at_risk),
        reduction: i.reduction.map(|r| format!("{r}")),
        cost: i.cost.map(|c| format!("{c:.0}")),
        margin: format!("{}", i.margin),
        rows: cases
            .iter()
            .zip(names)
            .map(|(c, n)| {
                [
                    n.to_owned(),
                    money_short((c.arr_retained * 100.0) as i64),
                    c.payback_months
                        .map_or_else(|| "never".to_owned(), |m| format!("{m:.0} months")),
                    percent(c.net_roi),
                ]
            })
            .collect(),
        filters: [
            ("window", query.window.clone()),
            ("segment", query.segment.clone()),
            ("team", query.team.clone()),
        ],
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "revenue/dashboard.html")]
pub struct DashboardPage {
    chrome: Chrome,
    f: std::sync::Arc<Figures>,
    windows: Vec<Choice>,
    segments: Vec<Choice>,
    teams: Vec<Choice>,
    can_pick_team: bool,
    revenue_heat: bool,
    query: String,
    roi: RoiView,
    /// Where the churn reductions come from when an experiment measured one.
    evidence: Option<(i64, String)>,
}

#[derive(Template, WebTemplate)]
#[template(path = "revenue/dashboard.html", block = "roi")]
pub struct RoiCard {
    roi: RoiView,
}

pub async fn show(
    State(state): State<AppState>,
    chrome: Chrome,
    user: CurrentUser,
    Query(q): Query<DashboardQuery>,
) -> Result<DashboardPage> {
    let filter = q.filter(&user)?;
    let (value, months, label) = q.window();
    let revenue_heat = q.cohorts == "revenue";
    let refresh = read::latest_refresh(&state.db).await?;
    let figures =
        dashboard::kept_figures(&state, refresh, months, label, &filter, revenue_heat).await?;
    let team_choices: Vec<(String, String)> = users::list_managers(&state.db)
        .await?
        .into_iter()
        .map(|(id, name)| (id.to_string(), format!("{name}'s team")))
        .collect();
    let mut teams = vec![("", "Every team")];
    teams.extend(team_choices.iter().map(|(v, l)| (v.as_str(), l.as_str())));
    let mut segments = vec![("", "Every segment")];
    segments.extend(Segment::options());
    let mut inputs = Inputs::defaults(figures.arr_at_risk);
    let evidence = dashboard::kept_evidence(&state, refresh, state.clock.now().date())
        .await?
        .map(|e| {
            let half_points = |share: f64| (share.max(0.0) * 200.0).round() / 2.0;
            inputs.reduction = [
                half_points(e.interval.1),
                half_points(e.gain),
                half_points(e.interval.0),
            ];
            (
                e.id,
                format!(
                    "Churn reductions from '{}': it kept {:+.1} points more accounts than control (95 % interval {:+.1} to {:+.1}); likely is the measured gain, best and worst its interval's ends (a negative end counts as none).",
                    e.name,
                    e.gain * 100.0,
                    e.interval.0 * 100.0,
                    e.interval.1 * 100.0
                ),
            )
        });
    Ok(DashboardPage {
        evidence,
        chrome,
        windows: choices(&WINDOWS.map(|w| (w.0, w.2)), value),
        segments: choices(&segments, &q.segment),
        teams: choices(&teams, &q.team),
        can_pick_team: user.role != Role::Manager,
        revenue_heat,
        query: format!("window={value}&segment={}&team={}", q.segment, q.team),
        roi: roi_view(&inputs, &q),
        f: figures,
    })
}

#[derive(Deserialize)]
pub struct RoiQuery {
    #[serde(flatten)]
    filters: DashboardQuery,
    #[serde(default)]
    arr_at_risk: String,
    #[serde(default)]
    r0: String,
    #[serde(default)]
    r1: String,
    #[serde(default)]
    r2: String,
    #[serde(default)]
    c0: String,
    #[serde(default)]
    c1: String,
    #[serde(default)]
    c2: String,
    #[serde(default)]
    margin: String,
}

/// A number typed into the ROI box `name`: zero or more, thousands separators allowed.
fn roi_number(name: &str, raw: &str) -> Result<f64> {
    match raw.trim().replace(',', "").parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(v),
        _ if raw.trim().is_empty() => Err(AppError::BadRequest(format!(
            "ROI: {name} is empty; enter a number (0 if none)"
        ))),
        _ => Err(AppError::BadRequest(format!(
            "ROI: {name} needs a number of zero or more ('{raw}' is not one)"
        ))),
    }
}

/// The ROI card recomputed from the reader's inputs (htmx swaps it in; nothing is saved).
pub async fn roi(Query(q): Query<RoiQuery>) -> Result<RoiCard> {
    let margin = roi_number("gross margin", &q.margin)?;
    if margin > 100.0 {
        return Err(AppError::BadRequest(
            "ROI: the gross margin is a percentage of at most 100".into(),
        ));
    }
    let inputs = Inputs {
        arr_at_risk: roi_number("ARR at risk", &q.arr_at_risk)?,
        reduction: [
            roi_number("best-case churn reduction", &q.r0)?,
            roi_number("likely churn reduction", &q.r1)?,
            roi_number("worst-case churn reduction", &q.r2)?,
        ],
        cost: [
            roi_number("best-case cost", &q.c0)?,
            roi_number("likely cost", &q.c1)?,
            roi_number("worst-case cost", &q.c2)?,
        ],
        margin,
    };
    Ok(RoiCard {
        roi: roi_view(&inputs, &q.filters),
    })
}

/// A table behind the page, as CSV: movements, segments, bands or cohorts.
pub async fn csv(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(table): Path<String>,
    Query(q): Query<DashboardQuery>,
) -> Result<Response> {
    let filter = q.filter(&user)?;
    let (_, months, label) = q.window();
    let refresh = read::latest_refresh(&state.db).await?;
    let heat = q.cohorts == "revenue";
    let f = dashboard::kept_figures(&state, refresh, months, label, &filter, heat).await?;
    let mut out = crate::web::csv::Writer::new(Vec::new());
    match table.trim_end_matches(".csv") {
        "movements" => {
            out.record([
                "month",
                "start",
                "new",
                "expansion",
                "reactivation",
                "contraction",
                "churn",
                "end",
            ])?;
            for r in &f.movement_rows {
                out.record(r)?;
            }
        }
        "segments" => {
            out.record([
                "segment",
                "accounts",
                "churned",
                "logo_churn",
                "starting_mrr",
                "churned_mrr",
                "revenue_churn",
                "nrr",
                "grr",
            ])?;
            for r in &f.segments {
                out.record([
                    r.segment.to_owned(),
                    r.accounts.to_string(),
                    r.churned.to_string(),
                    r.logo_churn.clone(),
                    r.starting.clone(),
                    r.churned_mrr.clone(),
                    r.revenue_churn.clone(),
                    r.nrr.clone(),
                    r.grr.clone(),
                ])?;
            }
        }
        "bands" => {
            out.record([
                "horizon_days",
                "score_day",
                "grouping",
                "value",
                "accounts",
                "churned",
                "churn_rate",
            ])?;
            for r in &f.bands {
                out.record([
                    r.horizon.to_string(),
                    r.day.clone(),
                    r.grouping.clone(),
                    r.value.clone(),
                    r.accounts.to_string(),
                    r.churned.to_string(),
                    r.rate.clone(),
                ])?;
            }
        }
        "trend" => {
            out.record(["month", "nrr", "grr"])?;
            for r in &f.trend_rows {
                out.record(r)?;
            }
        }
        "survival" => {
            out.record(["band", "day", "survival", "lower_95", "upper_95"])?;
            for r in &f.survival_rows {
                out.record(r)?;
            }
        }
        "lift" => {
            out.record(["decile", "lift"])?;
            for r in &f.lift_rows {
                out.record(r)?;
            }
        }
        "cohorts" => {
            let mut head = vec!["cohort".to_owned(), "accounts".to_owned()];
            head.extend(f.heat_ages.iter().map(|a| format!("month_{a}")));
            out.record(&head)?;
            for r in &f.heat {
                let mut row = vec![r.cohort.clone(), r.size.to_string()];
                row.extend(r.cells.iter().map(|c| c.0.clone()));
                out.record(&row)?;
            }
        }
        _ => return Err(AppError::NotFound),
    }
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()),
            (
                header::CONTENT_DISPOSITION,
                format!("attachment; filename=\"keel-{table}\""),
            ),
        ],
        out.into_inner()?,
    )
        .into_response())
}

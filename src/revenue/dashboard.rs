//! The executive's dashboard, built from the prepared revenue facts: headline retention,
//! movements, trend, churn by segment, what the risk bands predicted, cohorts, survival by
//! band, the model's lift and the programme's ROI.

use std::sync::Arc;

use sqlx::PgPool;
use time::{Date, OffsetDateTime};
use uuid::Uuid;

use super::movements::month_of;
use super::read::{self, Filter};
use super::sections::{band_rows, heatmap, lift_chart, save_rate, survival_chart};
use super::windows::{Retention, months_before};
use crate::experiments::Evidence;
use crate::segment;
use crate::state::{AppState, Memo};
use crate::web::charts::revenue::{self as charts, MovementsChart, SurvivalChart, TrendChart};
use crate::web::format::{dollars, money_short, month_label, percent};

/// The windows a reader can pick: (query value, months, label).
pub const WINDOWS: [(&str, i32, &str); 3] = [
    ("year", 12, "Trailing 12 months"),
    ("quarter", 3, "Trailing 3 months"),
    ("month", 1, "This month"),
];

pub struct Kpi {
    pub label: &'static str,
    pub value: String,
    pub definition: String,
}

pub struct SegmentRow {
    pub segment: &'static str,
    pub accounts: i64,
    pub churned: i64,
    pub logo_churn: String,
    pub starting: String,
    pub churned_mrr: String,
    pub revenue_churn: String,
    pub nrr: String,
    pub grr: String,
}

pub struct BandRow {
    pub horizon: i32,
    pub day: String,
    pub grouping: String,
    pub value: String,
    pub accounts: i64,
    pub churned: i64,
    pub rate: String,
}

pub struct HeatRow {
    pub cohort: String,
    pub size: i64,
    pub cells: Vec<(String, String)>,
}

/// Everything the page shows besides the ROI card.
pub struct Figures {
    pub as_of: Option<String>,
    pub window_label: String,
    pub window_range: String,
    pub kpis: Vec<Kpi>,
    pub movements: Option<MovementsChart>,
    pub movement_rows: Vec<[String; 8]>,
    pub trend: Option<TrendChart>,
    pub segments: Vec<SegmentRow>,
    pub bands: Vec<BandRow>,
    pub naive: Vec<String>,
    pub heat: Vec<HeatRow>,
    pub heat_ages: Vec<i32>,
    pub survival: Option<SurvivalChart>,
    pub survival_note: String,
    pub lift: Option<crate::web::charts::BarChart>,
    pub lift_note: String,
    pub save_rate: String,
    /// The model's expected ARR loss over this view's accounts, in dollars.
    pub arr_at_risk: f64,
    /// The numbers behind the trend (month, NRR, GRR), survival (band, day, S, lower,
    /// upper) and lift (decile, lift) charts.
    pub trend_rows: Vec<[String; 3]>,
    pub survival_rows: Vec<[String; 5]>,
    pub lift_rows: Vec<[String; 2]>,
}

fn total(rows: &[(Date, String, Retention)], end: Date) -> Retention {
    let mut t = Retention::default();
    for (_, _, r) in rows.iter().filter(|r| r.0 == end) {
        t.add(r);
    }
    t
}

/// What a view's figures are kept under: the revenue refresh and the production model they
/// were built from, then the view (window months, segment, team, cohorts by revenue).
type Key = (
    Option<(Date, OffsetDateTime)>,
    Option<Uuid>,
    i32,
    Option<String>,
    Option<Uuid>,
    bool,
);

/// Figures kept per view. Everything on them comes from the facts the daily run refreshes (in
/// one transaction with its `revenue_refreshes` row) and from the production model's report,
/// so a request reads those two stamps, one indexed row each, and uses what it kept only when
/// both are the ones it was built from.
#[derive(Default)]
struct Kept(Memo<Key, Arc<Figures>>);

/// How long a view nobody asks for is kept (the stamps, not this, keep it right).
const KEPT: std::time::Duration = std::time::Duration::from_secs(3600);

/// [`figures`], kept while the facts (as of `refresh`, the latest) and the model they come
/// from stay the same.
pub async fn kept_figures(
    state: &AppState,
    refresh: Option<(Date, OffsetDateTime)>,
    months: i32,
    window_label: &str,
    f: &Filter,
    heat_revenue: bool,
) -> anyhow::Result<Arc<Figures>> {
    let key = (
        refresh,
        crate::model::registry::production_id(&state.db).await?,
        months,
        f.segment.clone(),
        f.manager,
        heat_revenue,
    );
    let make = async {
        anyhow::Ok(Arc::new(
            figures(&state.db, months, window_label, f, heat_revenue).await?,
        ))
    };
    state.caches.get::<Kept>().0.fresh_or(key, KEPT, make).await
}

/// What the ROI card's evidence is kept under: the day, the revenue refresh, and each
/// experiment's id, status and winner.
type EvidenceKey = (
    Date,
    Option<(Date, OffsetDateTime)>,
    Vec<(i64, String, Option<i64>)>,
);

/// The ROI card's measured evidence, kept like the figures. It reads every assignment of the
/// experiments behind it with their outcomes (10 ms of the page's 12 on the demo); it moves
/// with the day, an experiment concluded or started, and the daily run (which assigns holdout
/// accounts before it refreshes the facts), and stands, like the rest of the page, as of the
/// latest refresh.
#[derive(Default)]
struct KeptEvidence(Memo<EvidenceKey, Option<Evidence>>);

/// [`crate::experiments::evidence`], kept while its key holds (`refresh` is the latest).
pub async fn kept_evidence(
    state: &AppState,
    refresh: Option<(Date, OffsetDateTime)>,
    today: Date,
) -> crate::error::Result<Option<Evidence>> {
    let all = crate::experiments::db::all(&state.db).await?;
    let key = (
        today,
        refresh,
        all.iter()
            .map(|e| (e.id, e.status.clone(), e.winner_variant_id))
            .collect(),
    );
    let make = crate::experiments::evidence(&state.db, &all, today);
    state
        .caches
        .get::<KeptEvidence>()
        .0
        .fresh_or(key, KEPT, make)
        .await
}

/// The page's figures for window `months` ending in `as_of`'s month, over `f`'s accounts.
async fn figures(
    pool: &PgPool,
    months: i32,
    window_label: &str,
    f: &Filter,
    heat_revenue: bool,
) -> anyhow::Result<Figures> {
    let Some((as_of, _)) = read::latest_refresh(pool).await? else {
        return Ok(Figures {
            as_of: None,
            window_label: window_label.to_owned(),
            window_range: String::new(),
            kpis: Vec::new(),
            movements: None,
            movement_rows: Vec::new(),
            trend: None,
            segments: Vec::new(),
            bands: Vec::new(),
            naive: Vec::new(),
            heat: Vec::new(),
            heat_ages: Vec::new(),
            survival: None,
            survival_note: String::new(),
            lift: None,
            lift_note: String::new(),
            save_rate: String::new(),
            arr_at_risk: 0.0,
            trend_rows: Vec::new(),
            survival_rows: Vec::new(),
            lift_rows: Vec::new(),
        });
    };
    let end = month_of(as_of);
    let first = months_before(end, months - 1);
    let since = months_before(end, 11);
    let (windows, single, monthly, cohorts, outcomes) = tokio::try_join!(
        read::retention(pool, months, since, f),
        read::retention(pool, 1, since, f),
        read::monthly(pool, since, f),
        read::cohorts(pool, f),
        read::band_outcomes(pool, f),
    )?;
    let headline = total(&windows, end);
    let kpis = vec![
        Kpi {
            label: "Net revenue retention",
            value: percent(headline.nrr()),
            definition: "(starting MRR + expansion − contraction − churn) ÷ starting MRR, for the accounts paying at the start; new business and reactivations excluded".into(),
        },
        Kpi {
            label: "Gross revenue retention",
            value: percent(headline.grr()),
            definition: "(starting MRR − contraction − churn) ÷ starting MRR, at most 100 %".into(),
        },
        Kpi {
            label: "Expansion ARR",
            value: money_short(headline.expansion * 12),
            definition: "12 × the MRR added by upgrades, seats and add-ons of those accounts".into(),
        },
        Kpi {
            label: "Churned ARR",
            value: money_short(headline.churn * 12),
            definition: "12 × the MRR of those accounts that stopped paying".into(),
        },
        Kpi {
            label: "Logo churn",
            value: percent(headline.logo_churn()),
            definition: format!(
                "{} of {} accounts paying at the start pay nothing at the end",
                headline.churned_accounts, headline.accounts
            ),
        },
    ];
    let movements = (!monthly.is_empty()).then(|| {
        let data: Vec<(String, [i64; 5])> = monthly
            .iter()
            .map(|(m, s)| {
                let f = &s.facts;
                (
                    month_label(*m).chars().take(3).collect(),
                    [f.new, f.expansion, f.reactivation, f.contraction, f.churn],
                )
            })
            .collect();
        charts::movements("MRR movements by month", &data, money_short)
    });
    let movement_rows = monthly
        .iter()
        .map(|(m, s)| {
            let f = &s.facts;
            [
                month_label(*m),
                dollars(f.start),
                dollars(f.new),
                dollars(f.expansion),
                dollars(f.reactivation),
                dollars(f.contraction),
                dollars(f.churn),
                dollars(f.end),
            ]
        })
        .collect();
    let ends: Vec<Date> = (0..12).rev().map(|n| months_before(end, n)).collect();
    let trend_points = |metric: fn(&Retention) -> Option<f64>| -> Vec<Option<f64>> {
        ends.iter().map(|e| metric(&total(&single, *e))).collect()
    };
    let labels: Vec<String> = ends
        .iter()
        .map(|e| month_label(*e).chars().take(3).collect())
        .collect();
    let trend = (!windows.is_empty()).then(|| {
        charts::trend(
            &format!(
                "NRR and GRR, {} windows ending each month",
                window_label.to_lowercase()
            ),
            &labels,
            &[
                ("NRR", "nrr", trend_points(Retention::nrr)),
                ("GRR", "grr", trend_points(Retention::grr)),
            ],
        )
    });
    let segments = segment::Segment::ALL
        .into_iter()
        .map(|s| {
            let mut r = Retention::default();
            for (_, _, x) in windows.iter().filter(|w| w.0 == end && w.1 == s.as_str()) {
                r.add(x);
            }
            SegmentRow {
                segment: s.label(),
                accounts: r.accounts,
                churned: r.churned_accounts,
                logo_churn: percent(r.logo_churn()),
                starting: money_short(r.starting),
                churned_mrr: money_short(r.churn),
                revenue_churn: percent(r.revenue_churn()),
                nrr: percent(r.nrr()),
                grr: percent(r.grr()),
            }
        })
        .collect();
    let (bands, naive) = band_rows(&outcomes);
    let (heat, heat_ages) = heatmap(&cohorts, heat_revenue);
    let view = read::view(pool, f).await?;
    let (survival, survival_note, survival_rows) = survival_chart(view.as_ref());
    let (lift, lift_note, lift_rows) = lift_chart(pool).await?;
    let trend_rows = ends
        .iter()
        .map(|e| {
            let r = total(&single, *e);
            [month_label(*e), percent(r.nrr()), percent(r.grr())]
        })
        .collect();
    let save_rate = save_rate(view.as_ref());
    Ok(Figures {
        as_of: Some(as_of.to_string()),
        window_label: window_label.to_owned(),
        window_range: format!("{} to {as_of}", first),
        kpis,
        movements,
        movement_rows,
        trend,
        segments,
        bands,
        naive,
        heat,
        heat_ages,
        survival,
        survival_note,
        lift,
        lift_note,
        save_rate,
        arr_at_risk: view
            .as_ref()
            .map_or(0.0, |v| v.arr_at_risk_cents as f64 / 100.0),
        trend_rows,
        survival_rows,
        lift_rows,
    })
}

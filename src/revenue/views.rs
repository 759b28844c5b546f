//! What the dashboard shows per filter that is not a sum: survival curves by health band
//! (Kaplan–Meier with log-log bands, log-rank across bands) and the model's ARR at risk,
//! prepared by the refresh for every segment × team view, so the page reads one row.

use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};
use sqlx::PgPool;
use time::Date;
use uuid::Uuid;

use crate::scores;
use crate::stats::survival::{Step, Subject, kaplan_meier, log_rank};

/// The bands, riskiest first.
pub const BANDS: [&str; 3] = ["red", "yellow", "green"];

/// One band's curve: (day, survival, lower, upper) at each event day.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Curve {
    pub band: String,
    pub accounts: usize,
    pub steps: Vec<(f64, f64, f64, f64)>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Test {
    pub chi_squared: f64,
    pub df: usize,
    pub p_value: f64,
}

/// One filter's prepared figures.
pub struct View {
    pub segment: Option<String>,
    pub manager: Option<Uuid>,
    pub score_day: Option<Date>,
    pub horizon: Option<i64>,
    pub curves: Vec<Curve>,
    pub log_rank: Option<Test>,
    pub arr_at_risk: i64,
    pub saves: crate::worklist::db::SaveRate,
}

/// Curves and test for one group of subjects per band.
fn survival(groups: &BTreeMap<usize, Vec<Subject>>) -> (Vec<Curve>, Option<Test>) {
    let curves = groups
        .iter()
        .map(|(b, g)| Curve {
            band: BANDS[*b].to_owned(),
            accounts: g.len(),
            steps: kaplan_meier(g).iter().map(Step::point).collect(),
        })
        .collect();
    let test = (groups.len() > 1).then(|| {
        let r = log_rank(&groups.values().cloned().collect::<Vec<_>>());
        Test {
            chi_squared: r.chi_squared,
            df: r.df,
            p_value: r.p_value,
        }
    });
    (curves, test)
}

/// Every view's figures as of `as_of`: accounts followed from their band about 90 days
/// before (or on the oldest scores kept), churn counted up to `as_of`.
pub async fn prepare(
    pool: &PgPool,
    as_of: Date,
    teams: &HashMap<Uuid, Option<Uuid>>,
    churned: &HashMap<Uuid, Date>,
) -> anyhow::Result<Vec<View>> {
    let day = match scores::reads::scored_on_or_before(pool, as_of - time::Duration::days(90))
        .await?
    {
        Some(d) => Some(d),
        None => scores::reads::earliest_day_since(pool, as_of - time::Duration::days(365)).await?,
    }
    .filter(|d| *d < as_of);
    // The bands followed, the latest ARR at risk and the save rates, read at once.
    let bands = async {
        match day {
            Some(d) => scores::reads::day_bands(pool, d).await,
            None => Ok(Vec::new()),
        }
    };
    let at_risk = async {
        match scores::db::latest_day(pool).await? {
            Some(d) => scores::reads::arr_at_risk_by_group(pool, d).await,
            None => Ok(Vec::new()),
        }
    };
    let saves = crate::worklist::db::save_rates(pool, None, None, as_of);
    let (bands, at_risk, (everyone, teams_saves)) = tokio::try_join!(bands, at_risk, saves)?;
    let horizon = day.map(|d| (as_of - d).whole_days());
    // Subjects per (segment, team, band).
    let mut cells: HashMap<(String, Option<Uuid>), BTreeMap<usize, Vec<Subject>>> = HashMap::new();
    for (account, segment, band, _) in &bands {
        let (Some(b), Some(d), Some(h)) = (BANDS.iter().position(|x| x == band), day, horizon)
        else {
            continue;
        };
        let subject = match churned.get(account).filter(|c| **c > d && **c <= as_of) {
            Some(c) => Subject {
                time: (*c - d).whole_days() as f64,
                event: true,
            },
            None => Subject {
                time: h as f64,
                event: false,
            },
        };
        let team = teams.get(account).copied().flatten();
        cells
            .entry((segment.clone(), team))
            .or_default()
            .entry(b)
            .or_default()
            .push(subject);
    }
    let segments: Vec<Option<String>> = std::iter::once(None)
        .chain(crate::segment::Segment::ALL.map(|s| Some(s.as_str().to_owned())))
        .collect();
    let mut managers: Vec<Option<Uuid>> = teams.values().copied().flatten().map(Some).collect();
    managers.sort();
    managers.dedup();
    managers.insert(0, None);
    let mut out = Vec::new();
    for segment in &segments {
        for manager in &managers {
            let mut groups: BTreeMap<usize, Vec<Subject>> = BTreeMap::new();
            for ((s, m), by_band) in &cells {
                if segment.as_ref().is_some_and(|x| x != s)
                    || manager.is_some_and(|x| Some(x) != *m)
                {
                    continue;
                }
                for (b, subjects) in by_band {
                    groups
                        .entry(*b)
                        .or_default()
                        .extend(subjects.iter().copied());
                }
            }
            let (curves, log_rank) = survival(&groups);
            let arr_at_risk = at_risk
                .iter()
                .filter(|(s, m, _)| {
                    (segment.is_none() || s == segment) && (manager.is_none() || m == manager)
                })
                .map(|g| g.2)
                .sum::<f64>()
                .round_ties_even() as i64;
            out.push(View {
                segment: segment.clone(),
                manager: *manager,
                score_day: day,
                horizon,
                curves,
                log_rank,
                arr_at_risk,
                saves: match manager {
                    None => everyone.clone(),
                    Some(m) => teams_saves.get(m).cloned().unwrap_or_default(),
                },
            });
        }
    }
    Ok(out)
}

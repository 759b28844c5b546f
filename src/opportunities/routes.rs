//! The sales home (`/opportunities`), the steps sales take on a card (htmx swaps the card),
//! and the expansion card the account page loads for CSMs, with the hand-off form.

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::Html;
use uuid::Uuid;

use super::db::{self, Row};
use super::handoff::{self, HandOff};
use super::metrics::{self, Metrics};
use super::steps::{self, Step, StepForm};
use super::{Kind, Status, Viewer};
use crate::auth::{CurrentUser, Role};
use crate::error::{AppError, Result};
use crate::expansion;
use crate::reasons::db::{ReasonCode, of_kinds};
use crate::state::{AppState, Memo};
use crate::web::charts::{self, BarChart};
use crate::web::countdown::Countdown;
use crate::web::format::{dollars, money_short, percent, timestamp};
use crate::web::layout::Chrome;

/// One opportunity as a card.
pub struct Card {
    id: i64,
    account_id: Uuid,
    account: String,
    segment: &'static str,
    kind: &'static str,
    status: &'static str,
    open: bool,
    status_label: &'static str,
    estimate: String,
    arr: String,
    propensity: String,
    tier: &'static str,
    reasons: Vec<String>,
    note: String,
    context_note: Option<String>,
    csm: String,
    seller: String,
    handed: String,
    countdown: Option<Countdown>,
    history: String,
    /// The signed-in user may take the next step.
    can_act: bool,
    can_open_account: bool,
}

fn card(o: Row, user: &CurrentUser, now: time::OffsetDateTime) -> Card {
    let history = [
        o.accepted_at.map(|t| format!("accepted {}", timestamp(t))),
        o.contacted_at
            .map(|t| format!("first contact {}", timestamp(t))),
        o.closed_at
            .map(|t| format!("{} {}", o.status.label().to_lowercase(), timestamp(t))),
        o.reason.clone(),
        o.outcome_note.clone(),
        o.closed_arr_cents
            .map(|c| format!("closed at {} ARR", dollars(c))),
        o.escalated_at
            .map(|_| "acceptance SLA breached; manager notified".to_owned()),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>()
    .join(" · ");
    Card {
        id: o.id,
        account_id: o.account_id,
        account: o.account,
        segment: crate::segment::label_of(&o.segment),
        kind: o.kind.label(),
        status: o.status.as_str(),
        open: o.status.is_open(),
        status_label: o.status.label(),
        estimate: dollars(o.estimated_arr_cents),
        arr: money_short(crate::money::arr_cents(o.mrr_cents)),
        propensity: format!("{:.0}", o.propensity),
        tier: o.tier.as_str(),
        reasons: serde_json::from_value(o.reasons).unwrap_or_default(),
        note: o.note,
        context_note: o.context_note,
        csm: o.csm,
        seller: o.seller,
        handed: timestamp(o.created_at),
        countdown: (o.status == Status::Handed).then(|| Countdown::new(o.sla_due_at, now)),
        history,
        can_act: o.status.is_open()
            && (user.role == Role::Admin
                || (user.role == Role::Sales && user.id == o.sales_owner_id)),
        can_open_account: user.role != Role::Sales,
    }
}

/// Open opportunities the home lists (the most urgent first).
const OPEN_SHOWN: i64 = 50;

#[derive(Template, WebTemplate)]
#[template(path = "opportunities/home.html")]
pub struct Home {
    chrome: Chrome,
    open: Vec<Card>,
    closed: Vec<Card>,
    rejections: Vec<ReasonCode>,
    losses: Vec<ReasonCode>,
    tiles: Vec<(&'static str, String, &'static str)>,
    funnel: BarChart,
    precision: String,
}

fn tiles(m: &Metrics) -> Vec<(&'static str, String, &'static str)> {
    let hours = |h: Option<f64>| h.map_or("—".into(), |h| format!("{h:.0} h"));
    let days = |d: Option<f64>| d.map_or("—".into(), |d| format!("{d:.1} d"));
    vec![
        (
            "Acceptance rate",
            percent(m.acceptance_rate()),
            "accepted of hand-offs accepted or rejected",
        ),
        (
            "Time to accept",
            hours(m.hours_to_accept),
            "median, hand-off to acceptance",
        ),
        (
            "To first contact",
            days(m.days_to_contact),
            "median, acceptance to first contact",
        ),
        (
            "Stalled",
            m.stalled.to_string(),
            "accepted over 7 days ago, never contacted",
        ),
        (
            "SLA breaches",
            m.breached.to_string(),
            "not accepted or rejected within 48 h",
        ),
        ("Win rate", percent(m.win_rate()), "won of won and lost"),
        (
            "Influenced ARR",
            money_short(m.won_arr_cents),
            "won on opportunities CS handed over",
        ),
        (
            "Billed after hand-offs",
            money_short(m.billed_after_cents),
            "expansion ARR billed within 180 days of a hand-off",
        ),
    ]
}

/// The sales home as rendered for one user with the opportunities' generation it saw, kept
/// 30 seconds unless an opportunity changes.
#[derive(Default)]
pub struct HomeCache(Memo<Uuid, (u64, Bytes)>);

const HOME_FRESH: std::time::Duration = std::time::Duration::from_secs(30);

/// The sales home: from the cache when nothing changed in the last 30 seconds.
pub async fn home(
    State(state): State<AppState>,
    chrome: Chrome,
    user: CurrentUser,
) -> Result<Html<Bytes>> {
    let render = async {
        let home = render_home(&state, chrome, &user).await?;
        let page = home.render().map_err(|e| AppError::Internal(e.into()))?;
        Ok::<_, AppError>(Bytes::from(page))
    };
    let cache = state.caches.get::<HomeCache>();
    let page = (cache.0)
        .current_or(user.id, super::generation(), HOME_FRESH, render)
        .await?;
    Ok(Html(page))
}

async fn render_home(state: &AppState, chrome: Chrome, user: &CurrentUser) -> Result<Home> {
    let now = state.clock.now();
    let viewer = Viewer::of(user);
    let m = state
        .caches
        .get::<metrics::Cache>()
        .get(&state.db, viewer, now)
        .await?;
    let quarter = state
        .caches
        .get::<expansion::backtest::QuarterCache>()
        .ready_or_start(&state.db, now.date());
    let precision = match quarter {
        Some(Some((day, p))) => format!(
            "{}: of the ten accounts ranked highest on {day}, the share whose billed MRR grew in the 90 days after.",
            percent(Some(p))
        ),
        Some(None) => "Not yet: it needs 90 days of history.".to_owned(),
        None => {
            "Being computed from the ranking of 90 days ago; it shows within a minute.".to_owned()
        }
    };
    let funnel = charts::bars(
        "Hand-offs in the last year: handed, accepted, contacted, won",
        &[
            ("handed".to_owned(), m.handed as f64),
            ("accepted".to_owned(), m.accepted as f64),
            ("contacted".to_owned(), m.contacted as f64),
            ("won".to_owned(), m.won as f64),
        ],
        |v| format!("{v:.0}"),
    );
    let [rejections, losses] = of_kinds(&state.db, ["rejection", "loss"]).await?;
    Ok(Home {
        chrome,
        open: db::open(&state.db, viewer, OPEN_SHOWN)
            .await?
            .into_iter()
            .map(|o| card(o, user, now))
            .collect(),
        closed: db::closed(&state.db, viewer, 20)
            .await?
            .into_iter()
            .map(|o| card(o, user, now))
            .collect(),
        rejections,
        losses,
        tiles: tiles(&m),
        funnel,
        precision,
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "opportunities/_card.html")]
pub struct CardFragment {
    o: Card,
    rejections: Vec<ReasonCode>,
    losses: Vec<ReasonCode>,
}

/// Takes a step; htmx swaps the card for its new state.
pub async fn step(
    State(state): State<AppState>,
    user: CurrentUser,
    Path((id, step)): Path<(i64, String)>,
    Form(form): Form<StepForm>,
) -> Result<CardFragment> {
    let step = Step::parse(&step).ok_or(AppError::NotFound)?;
    let now = state.clock.now();
    let o = steps::take(&state.db, &user, id, step, &form, now).await?;
    let [rejections, losses] = of_kinds(&state.db, ["rejection", "loss"]).await?;
    Ok(CardFragment {
        o: card(o, &user, now),
        rejections,
        losses,
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "opportunities/account_card.html")]
pub struct AccountCard {
    id: Uuid,
    score: Option<(String, &'static str, String, String)>,
    signals: Vec<expansion::words::Said>,
    opportunities: Vec<Card>,
    can_hand_off: bool,
    at_risk: bool,
    kinds: Vec<(&'static str, &'static str)>,
    suggested: String,
    message: Option<String>,
}

async fn account_card(
    state: &AppState,
    user: &CurrentUser,
    id: Uuid,
    message: Option<String>,
) -> Result<AccountCard> {
    let (_, score) =
        crate::accounts::db::find_scored(&state.db, crate::accounts::scope_for(user), id)
            .await?
            .ok_or(AppError::NotFound)?;
    let now = state.clock.now();
    let latest = expansion::db::latest(&state.db, id).await?;
    let (_, weights, _) = expansion::db::config(&state.db).await?;
    let opportunities: Vec<Card> = db::of_account(&state.db, id)
        .await?
        .into_iter()
        .map(|o| card(o, user, now))
        .collect();
    let open = opportunities.iter().any(|o| o.open);
    let at_risk = score.is_some_and(|s| s.at_risk);
    Ok(AccountCard {
        id,
        signals: latest
            .as_ref()
            .map(|l| expansion::words::explain(&l.signals, &weights))
            .unwrap_or_default(),
        suggested: latest.as_ref().map_or_else(String::new, |l| {
            let arr = l.projected_arr_cents as f64 / f64::from(l.poc).max(1e-9);
            format!("{:.0}", arr / 100.0)
        }),
        score: latest.map(|l| {
            (
                format!("{:.0}", l.propensity),
                l.tier.as_str(),
                dollars(l.projected_arr_cents),
                percent(Some(f64::from(l.poc))),
            )
        }),
        opportunities,
        can_hand_off: !open && matches!(user.role, Role::Csm | Role::Manager | Role::Admin),
        at_risk,
        kinds: Kind::ALL
            .into_iter()
            .map(|k| (k.as_str(), k.label()))
            .collect(),
        message,
    })
}

/// The account page's expansion card, loaded over htmx.
pub async fn card_fragment(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<Uuid>,
) -> Result<AccountCard> {
    account_card(&state, &user, id, None).await
}

/// A CSM hands the account to sales; the card comes back showing the opportunity.
pub async fn hand_off(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<Uuid>,
    Form(form): Form<HandOff>,
) -> Result<AccountCard> {
    handoff::hand_off(&state.db, &user, id, &form, state.clock.now()).await?;
    account_card(
        &state,
        &user,
        id,
        Some("Handed to sales: the 48-hour acceptance clock is running.".into()),
    )
    .await
}

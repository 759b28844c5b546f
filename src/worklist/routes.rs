//! The worklist page: the viewed CSM's open tasks and their book, ranked, filtered and
//! paged from the URL. The actions taken from it are in `actions`.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::http::{HeaderName, HeaderValue};
use axum::response::{IntoResponse, Response};
use axum_htmx::HxRequest;
use time::Date;
use uuid::Uuid;

use super::book::{BookFragment, BookView, WorklistQuery, book_view};
use super::db::{self};
use crate::auth::{CurrentUser, Role};
use crate::error::{AppError, Result};
use crate::segment::Segment;
use crate::state::{AppState, Memo};
use crate::web::format::{Choice, choices};
use crate::web::layout::Chrome;

#[derive(Template, WebTemplate)]
#[template(path = "worklist/index.html")]
pub struct WorklistPage {
    chrome: Chrome,
    book: BookView,
    csms: Vec<Choice>,
    viewing: String,
    tasks: super::tasks::TaskSection,
    save_rate: String,
    filters: Filters,
}

pub struct Filters {
    band: Vec<Choice>,
    tier: Vec<Choice>,
    segment: Vec<Choice>,
    renewal: Vec<Choice>,
    expansion: Vec<Choice>,
    sort: Vec<Choice>,
    flagged: bool,
    snoozed: bool,
    q: String,
    csm: String,
}

async fn viewed_csm(
    state: &AppState,
    user: &CurrentUser,
    requested: &str,
) -> Result<(Uuid, Vec<(Uuid, String)>)> {
    let team = match user.role {
        Role::Csm => return Ok((user.id, Vec::new())),
        Role::Manager => crate::auth::db::csms(&state.db, Some(user.id)).await?,
        _ => crate::auth::db::csms(&state.db, None).await?,
    };
    let chosen = match requested.parse::<Uuid>() {
        Ok(id) => team
            .iter()
            .find(|c| c.0 == id)
            .map(|c| c.0)
            .ok_or(AppError::NotFound)?,
        Err(_) => team.first().map_or(user.id, |c| c.0),
    };
    Ok((chosen, team))
}

/// Save rates by (CSM, manager, day), kept ten minutes: they count flags 60 to 240 days
/// old, so only the day's first scores and churn reported since move them, and reading the
/// scores of a whole book on every worklist would be most of the page's work.
#[derive(Default)]
struct SaveRates(Memo<(Option<Uuid>, Option<Uuid>, Date), db::SaveRate>);

const SAVE_RATE_FRESH: std::time::Duration = std::time::Duration::from_secs(600);

async fn save_rate(
    state: &AppState,
    owner: Option<Uuid>,
    manager: Option<Uuid>,
    today: Date,
) -> Result<db::SaveRate> {
    let make = db::save_rate(&state.db, owner, manager, today);
    Ok(state
        .caches
        .get::<SaveRates>()
        .0
        .fresh_or((owner, manager, today), SAVE_RATE_FRESH, make)
        .await?)
}

fn can_act(user: &CurrentUser) -> bool {
    matches!(user.role, Role::Csm | Role::Manager)
}

pub async fn index(
    State(state): State<AppState>,
    user: CurrentUser,
    chrome: Chrome,
    HxRequest(htmx): HxRequest,
    Query(q): Query<WorklistQuery>,
) -> Result<Response> {
    let today = state.clock.now().date();
    let (csm, team) = viewed_csm(&state, &user, WorklistQuery::value(&q.csm)).await?;
    let book = book_view(&state, csm, &q, today, can_act(&user)).await?;
    let vary = [(
        HeaderName::from_static("vary"),
        HeaderValue::from_static("HX-Request"),
    )];
    if htmx {
        return Ok((vary, BookFragment { book }).into_response());
    }
    let rate = save_rate(&state, Some(csm), None, today).await?;
    let team_rate = match user.role {
        Role::Manager => Some(save_rate(&state, None, Some(user.id), today).await?),
        _ => None,
    };
    let describe = |r: &db::SaveRate| {
        format!(
            "{} flagged, {} contacted within 14 days, {} retained ({})",
            r.flagged,
            r.contacted,
            r.retained,
            if r.flagged > 0 {
                format!(
                    "{:.0} % saved",
                    100.0 * r.retained as f64 / r.flagged as f64
                )
            } else {
                "no flags with a known outcome yet".to_owned()
            }
        )
    };
    let mut save_rate = describe(&rate);
    if let Some(t) = &team_rate {
        save_rate.push_str(&format!("; your team: {}", describe(t)));
    }
    let tasks = super::tasks::TaskSection::load(&state, &user, csm, None).await?;
    let v = |o: &Option<String>| WorklistQuery::value(o).to_owned();
    let filters = Filters {
        band: choices(
            &[
                ("", "Any band"),
                ("red", "Red"),
                ("yellow", "Yellow"),
                ("green", "Green"),
            ],
            &v(&q.band),
        ),
        tier: choices(
            &[
                ("", "Any tier"),
                ("high", "High"),
                ("medium", "Medium"),
                ("low", "Low"),
            ],
            &v(&q.tier),
        ),
        segment: choices(
            &[[("", "Any segment")].as_slice(), &Segment::options()].concat(),
            &v(&q.segment),
        ),
        renewal: choices(
            &[
                ("", "Any renewal"),
                ("30", "Within 30 days"),
                ("60", "Within 60 days"),
                ("90", "Within 90 days"),
            ],
            &v(&q.renewal),
        ),
        expansion: choices(
            &[
                ("", "Any expansion propensity"),
                ("ready", "Expansion: medium or high"),
                ("high", "Expansion: high"),
            ],
            &v(&q.expansion),
        ),
        sort: choices(
            &[
                ("priority", "Priority"),
                ("arr", "ARR"),
                ("renewal", "Renewal date"),
                ("health", "Health (worst first)"),
                ("name", "Name"),
            ],
            &v(&q.sort),
        ),
        flagged: !v(&q.flagged).is_empty(),
        snoozed: !v(&q.snoozed).is_empty(),
        q: v(&q.q),
        csm: csm.to_string(),
    };
    let viewing = team
        .iter()
        .find(|c| c.0 == csm)
        .map_or_else(|| user.name.clone(), |c| c.1.clone());
    Ok((
        vary,
        WorklistPage {
            chrome,
            book,
            csms: team
                .iter()
                .map(|(id, name)| Choice {
                    value: id.to_string(),
                    label: name.clone(),
                    selected: *id == csm,
                })
                .collect(),
            viewing,
            tasks,
            save_rate,
            filters,
        },
    )
        .into_response())
}

/// Lines a group shows before "and N more".
const CHANGES_SHOWN: usize = 5;

#[derive(Template, WebTemplate)]
#[template(path = "worklist/_changes.html")]
pub struct ChangesCard {
    /// The scored days compared (earlier, latest); none before there are two.
    span: Option<(String, String)>,
    groups: Vec<super::changes::Group>,
}

/// The "what changed since the last scores" card of the viewed CSM's book (htmx, on load).
pub async fn changes(
    State(state): State<AppState>,
    user: CurrentUser,
    Query(q): Query<WorklistQuery>,
) -> Result<ChangesCard> {
    let (csm, _) = viewed_csm(&state, &user, WorklistQuery::value(&q.csm)).await?;
    let Some(c) = super::changes::load(&state.db, csm, state.clock.now()).await? else {
        return Ok(ChangesCard {
            span: None,
            groups: Vec::new(),
        });
    };
    let span = Some((c.since.to_string(), c.latest.to_string()));
    Ok(ChangesCard {
        span,
        groups: c.groups(CHANGES_SHOWN),
    })
}

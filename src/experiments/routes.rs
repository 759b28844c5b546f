//! Experiment pages: the list, the designer with what a design can detect, one
//! experiment's design and results, and a playbook's measured uplift (an htmx fragment).

use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

use super::db::{self, Experiment, Variant};
use super::design::{Checked, DesignForm, Detectable, detectable};
use super::results::analyse;
use super::view::{ResultsView, results_view};
use super::{DESIGNERS, Decision};
use crate::auth::CurrentUser;
use crate::auth::audit::Actor;
use crate::error::{AppError, Result};
use crate::playbooks;
use crate::state::AppState;
use crate::web::layout::Chrome;

/// An experiment as the list shows it.
pub struct Listed {
    id: i64,
    name: String,
    status: String,
    window: String,
    holdout: bool,
}

fn window(e: &Experiment) -> String {
    match (e.start_date, e.end_date) {
        (Some(s), Some(end)) => format!("{s} to {end}"),
        (Some(s), None) => format!("since {s}"),
        _ => format!("{} days once started", e.duration_days),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "experiments/index.html")]
pub struct IndexPage {
    chrome: Chrome,
    can_design: bool,
    experiments: Vec<Listed>,
}

pub async fn index(
    State(state): State<AppState>,
    chrome: Chrome,
    user: CurrentUser,
) -> Result<IndexPage> {
    let experiments = db::all(&state.db)
        .await?
        .into_iter()
        .map(|e| Listed {
            window: window(&e),
            id: e.id,
            name: e.name,
            status: e.status,
            holdout: e.holdout_of.is_some(),
        })
        .collect();
    Ok(IndexPage {
        chrome,
        can_design: DESIGNERS.allows(Some(user.role)),
        experiments,
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "experiments/new.html")]
pub struct NewPage {
    chrome: Chrome,
    form: DesignForm,
    playbooks: Vec<(i64, String)>,
    errors: Vec<String>,
}

async fn playbook_choices(state: &AppState) -> Result<Vec<(i64, String)>> {
    Ok(playbooks::db::list(&state.db)
        .await?
        .into_iter()
        .map(|p| (p.id, p.name))
        .collect())
}

pub async fn new(State(state): State<AppState>, chrome: Chrome) -> Result<NewPage> {
    Ok(NewPage {
        chrome,
        form: DesignForm::blank(),
        playbooks: playbook_choices(&state).await?,
        errors: Vec::new(),
    })
}

/// What a design can detect, in words (`experiments/_detectable.html`), for the designer
/// and the draft's page.
pub struct Detect {
    errors: Vec<String>,
    d: Option<Detectable>,
    minimum: i32,
}

/// The designer's preview: the same words as an htmx fragment.
#[derive(Template, WebTemplate)]
#[template(path = "experiments/detectable.html")]
pub struct DetectableFragment {
    f: Detect,
}

impl Detect {
    fn rise(&self) -> String {
        match self.d.as_ref().and_then(|d| d.rise) {
            Some(r) => format!("{:.1} percentage points", r * 100.0),
            None => "nothing: too few accounts for any rise to reach 80 % power".into(),
        }
    }
}

async fn detect(state: &AppState, checked: &Checked) -> Result<Detect> {
    Ok(Detect {
        errors: Vec::new(),
        d: detectable(&state.db, checked).await?,
        minimum: checked.min_per_variant,
    })
}

pub async fn preview(
    State(state): State<AppState>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<DetectableFragment> {
    let ids: Vec<i64> = playbook_choices(&state)
        .await?
        .into_iter()
        .map(|p| p.0)
        .collect();
    match DesignForm::from_pairs(&pairs).check(&ids) {
        Ok(checked) => Ok(DetectableFragment {
            f: detect(&state, &checked).await?,
        }),
        Err(errors) => Ok(DetectableFragment {
            f: Detect {
                errors,
                d: None,
                minimum: 0,
            },
        }),
    }
}

pub async fn create(
    State(state): State<AppState>,
    chrome: Chrome,
    user: CurrentUser,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response> {
    let playbooks = playbook_choices(&state).await?;
    let ids: Vec<i64> = playbooks.iter().map(|p| p.0).collect();
    let form = DesignForm::from_pairs(&pairs);
    let refuse = |form: DesignForm, playbooks, errors| {
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            NewPage {
                chrome,
                form,
                playbooks,
                errors,
            },
        )
            .into_response()
    };
    let checked = match form.check(&ids) {
        Ok(c) => c,
        Err(errors) => return Ok(refuse(form, playbooks, errors)),
    };
    match super::create(&state.db, &Actor::from(&user), &checked).await {
        Ok(id) => Ok(Redirect::to(&format!("/experiments/{id}")).into_response()),
        Err(AppError::Conflict(e)) => Ok(refuse(form, playbooks, vec![format!("name: {e}")])),
        Err(e) => Err(e),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "experiments/show.html")]
pub struct ShowPage {
    chrome: Chrome,
    e: Experiment,
    eligibility: String,
    variants: Vec<Variant>,
    can_design: bool,
    detect: Option<Detect>,
    results: Option<ResultsView>,
    winner: Option<String>,
}

async fn results_of(
    state: &AppState,
    e: &Experiment,
    variants: &[Variant],
) -> Result<Option<ResultsView>> {
    if e.status == "draft" {
        return Ok(None);
    }
    let outcomes = db::outcomes(&state.db, e.id).await?;
    let r = analyse(e, variants, &outcomes, state.clock.now().date());
    Ok(Some(results_view(e, &r)))
}

pub async fn show(
    State(state): State<AppState>,
    chrome: Chrome,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<ShowPage> {
    let e = db::find(&state.db, id).await?.ok_or(AppError::NotFound)?;
    let variants = db::variants(&state.db, &[id]).await?;
    let detect = match (e.status.as_str(), serde_json::from_value(e.rule.clone())) {
        ("draft", Ok(rule)) => {
            let checked = Checked {
                name: e.name.clone(),
                hypothesis: e.hypothesis.clone(),
                rule,
                duration_days: e.duration_days,
                min_per_variant: e.min_per_variant,
                variants: variants
                    .iter()
                    .map(|v| db::NewVariant {
                        name: v.name.clone(),
                        description: v.description.clone(),
                        allocation: v.allocation,
                        playbook: v.playbook_id,
                    })
                    .collect(),
            };
            Some(detect(&state, &checked).await?)
        }
        _ => None,
    };
    let results = results_of(&state, &e, &variants).await?;
    let winner = e
        .winner_variant_id
        .and_then(|w| variants.iter().find(|v| v.id == w))
        .map(|v| v.name.clone());
    Ok(ShowPage {
        chrome,
        eligibility: serde_json::from_value::<crate::playbooks::rules::Rule>(e.rule.clone())
            .map_or_else(|_| e.rule.to_string(), |r| r.in_words()),
        can_design: DESIGNERS.allows(Some(user.role)) && e.holdout_of.is_none(),
        e,
        variants,
        detect,
        results,
        winner,
    })
}

pub async fn start(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
) -> Result<Redirect> {
    super::start(&state.db, &Actor::from(&user), id, state.clock.now().date()).await?;
    Ok(Redirect::to(&format!("/experiments/{id}")))
}

#[derive(Deserialize)]
pub struct ConcludeForm {
    decision: String,
    #[serde(default)]
    winner: String,
    #[serde(default)]
    make_default: Option<String>,
}

pub async fn conclude(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<i64>,
    Form(form): Form<ConcludeForm>,
) -> Result<Redirect> {
    let winner = match form.winner.as_str() {
        "" => None,
        w => Some(
            w.parse::<i64>()
                .map_err(|_| AppError::BadRequest(format!("winner: '{w}' is not a variant")))?,
        ),
    };
    let decision = Decision {
        text: form.decision,
        winner,
        make_default: form.make_default.is_some(),
    };
    super::conclude(&state.db, &Actor::from(&user), id, &decision).await?;
    Ok(Redirect::to(&format!("/experiments/{id}")))
}

#[derive(Template, WebTemplate)]
#[template(path = "experiments/uplift.html")]
pub struct UpliftFragment {
    e: Option<Experiment>,
    results: Option<ResultsView>,
}

/// A playbook's measured uplift: its holdout's results.
pub async fn uplift(State(state): State<AppState>, Path(id): Path<i64>) -> Result<UpliftFragment> {
    let Some(e) = db::holdout_of(&state.db, id).await? else {
        return Ok(UpliftFragment {
            e: None,
            results: None,
        });
    };
    let variants = db::variants(&state.db, &[e.id]).await?;
    let results = results_of(&state, &e, &variants).await?;
    Ok(UpliftFragment {
        e: Some(e),
        results,
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "experiments/account_note.html")]
pub struct AccountNote {
    experiments: Vec<(i64, String, time::Date)>,
    can_read: bool,
}

/// On the account page: the experiments the account is in now, so its CSM does not
/// interfere (which variant, and the results, are not shown to CSMs).
pub async fn account_note(
    State(state): State<AppState>,
    user: CurrentUser,
    Path(id): Path<uuid::Uuid>,
) -> Result<AccountNote> {
    crate::accounts::db::find(&state.db, crate::accounts::scope_for(&user), id)
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(AccountNote {
        experiments: db::of_account(&state.db, id, state.clock.now().date()).await?,
        can_read: super::READERS.allows(Some(user.role)),
    })
}

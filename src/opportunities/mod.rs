//! The hand-off from CS to sales: a CSM hands an account ready to expand to sales with a
//! note, creating an opportunity; the sales owner accepts it (or rejects it with a reason)
//! within the 48-hour SLA, makes first contact, and wins or loses it. Every step is an
//! `opportunity_events` row (the account's timeline) and an audit row; a breached
//! acceptance SLA emails the CSM's manager once. Owns `opportunities` and
//! `opportunity_events`.

mod api;
pub mod db;
pub mod escalate;
mod handoff;
mod metrics;
mod routes;
mod steps;

use std::sync::atomic::{AtomicU64, Ordering};

use serde::Deserialize;
use time::Duration;

use crate::auth::access::{Access, Route};
use crate::auth::{CurrentUser, Role};

/// How long sales has to accept or reject a hand-off.
pub const ACCEPT_SLA: Duration = Duration::hours(48);

/// Who reads the sales pipeline: sales their own, managers their team's, the others all.
const READERS: Access = Access::Roles(&[Role::Sales, Role::Manager, Role::Executive, Role::Admin]);
/// Who works an opportunity (the handler checks it is theirs).
const SELLERS: Access = Access::Roles(&[Role::Sales, Role::Admin]);
/// Who hands accounts over (the handler checks the account is in their book).
const HANDERS: Access = Access::Roles(&[Role::Csm, Role::Manager, Role::Admin]);

/// Bumped by every write to opportunities in this process: a page cached before the last
/// bump is stale. (Writes by other processes, and the daily run's new propensities, show
/// once the cache's 30 seconds are up.)
static GENERATION: AtomicU64 = AtomicU64::new(0);

fn changed() {
    GENERATION.fetch_add(1, Ordering::Relaxed);
}

fn generation() -> u64 {
    GENERATION.load(Ordering::Relaxed)
}

pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/opportunities", READERS, routes::home),
        Route::get("/opportunities/export.csv", READERS, api::csv),
        Route::get("/api/v1/opportunities", Access::ApiToken, api::json),
        Route::post("/opportunities/{id}/{step}", SELLERS, routes::step),
        Route::get(
            "/accounts/{id}/expansion",
            crate::accounts::READERS,
            routes::card_fragment,
        ),
        Route::post("/accounts/{id}/opportunities", HANDERS, routes::hand_off),
    ]
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, sqlx::Type, Deserialize)]
#[sqlx(type_name = "opportunity_kind", rename_all = "snake_case")]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Seats,
    TierUpgrade,
    CrossSell,
}

impl Kind {
    pub const ALL: [Kind; 3] = [Kind::Seats, Kind::TierUpgrade, Kind::CrossSell];

    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Seats => "seats",
            Kind::TierUpgrade => "tier_upgrade",
            Kind::CrossSell => "cross_sell",
        }
    }

    pub fn label(self) -> &'static str {
        match self {
            Kind::Seats => "More seats",
            Kind::TierUpgrade => "Tier upgrade",
            Kind::CrossSell => "Cross-sell",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, sqlx::Type)]
#[sqlx(type_name = "opportunity_status", rename_all = "lowercase")]
pub enum Status {
    Handed,
    Accepted,
    Rejected,
    Contacted,
    Won,
    Lost,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Handed => "handed",
            Status::Accepted => "accepted",
            Status::Rejected => "rejected",
            Status::Contacted => "contacted",
            Status::Won => "won",
            Status::Lost => "lost",
        }
    }

    /// What people read.
    pub fn label(self) -> &'static str {
        match self {
            Status::Handed => "Awaiting acceptance",
            Status::Accepted => "Accepted",
            Status::Rejected => "Rejected",
            Status::Contacted => "In contact",
            Status::Won => "Won",
            Status::Lost => "Lost",
        }
    }

    /// The status in the sources' CSV schema (an SAO once sales accepted it).
    pub fn export(self) -> &'static str {
        match self {
            Status::Handed => "SAO candidate",
            Status::Accepted | Status::Contacted => "SAO",
            Status::Rejected => "Rejected",
            Status::Won => "Closed won",
            Status::Lost => "Closed lost",
        }
    }

    pub fn is_open(self) -> bool {
        matches!(self, Status::Handed | Status::Accepted | Status::Contacted)
    }
}

/// Whose opportunities a user sees.
#[derive(Clone, Copy, Debug)]
pub enum Viewer {
    All,
    /// A sales rep: those they own.
    Seller(uuid::Uuid),
    /// A manager: those of the CSMs reporting to them.
    Team(uuid::Uuid),
    /// A CSM: those they handed over.
    Csm(uuid::Uuid),
}

impl Viewer {
    pub fn of(user: &CurrentUser) -> Viewer {
        match user.role {
            Role::Sales => Viewer::Seller(user.id),
            Role::Manager => Viewer::Team(user.id),
            Role::Csm => Viewer::Csm(user.id),
            Role::Admin | Role::Executive | Role::Analyst => Viewer::All,
        }
    }

    /// (seller, manager, csm) as the queries take them.
    pub fn params(self) -> (Option<uuid::Uuid>, Option<uuid::Uuid>, Option<uuid::Uuid>) {
        match self {
            Viewer::All => (None, None, None),
            Viewer::Seller(id) => (Some(id), None, None),
            Viewer::Team(id) => (None, Some(id), None),
            Viewer::Csm(id) => (None, None, Some(id)),
        }
    }
}

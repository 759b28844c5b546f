//! The churn model: weighted logistic regression and gradient-boosted trees trained on
//! snapshots, calibrated, explained per prediction and validated walk-forward; `metrics`
//! holds the validation measures; `evaluate` validates both models on any CSV of features.

pub mod alerts;
pub mod db;
pub mod drivers;
pub mod evaluate;
pub mod guard;
pub mod logistic;
pub mod metrics;
pub mod monitor;
pub mod registry;
mod routes;
pub mod screen;
pub mod train;
pub mod training;
pub mod trees;
pub mod watch;

use crate::auth::Role;
use crate::auth::access::{Access, Route};

const ANALYSTS: Access = Access::Roles(&[Role::Analyst]);

/// A seeded stream of uniform numbers in [0, 1) for the models' tests (a linear
/// congruential generator: the same seed gives the same rows everywhere).
#[cfg(test)]
pub(crate) fn uniform(mut seed: u64) -> impl FnMut() -> f64 {
    move || {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 11) as f64 / (1u64 << 53) as f64
    }
}

pub fn routes() -> Vec<Route> {
    vec![
        Route::get("/models", ANALYSTS, routes::index),
        Route::get("/models/health", ANALYSTS, routes::health),
        Route::post(
            "/models/alerts/{id}/acknowledge",
            ANALYSTS,
            alerts::routes::acknowledge,
        ),
        Route::post("/models/alerts/{id}/mute", ANALYSTS, alerts::routes::mute),
        Route::post(
            "/models/alerts/{id}/unmute",
            ANALYSTS,
            alerts::routes::unmute,
        ),
        Route::post("/models/train", ANALYSTS, routes::train),
        Route::post("/models/{id}/promote", ANALYSTS, routes::promote),
    ]
}

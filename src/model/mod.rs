//! The churn model: weighted logistic regression and gradient-boosted trees trained on
//! snapshots, calibrated, explained per prediction and validated walk-forward; `metrics`
//! holds the validation measures.

pub mod drivers;
mod logistic;
pub mod metrics;
pub mod registry;
pub mod train;
pub mod training;

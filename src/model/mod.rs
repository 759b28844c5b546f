//! The churn model: weighted logistic regression and gradient-boosted trees trained on
//! snapshots, calibrated, explained per prediction and validated walk-forward; `metrics`
//! holds the validation measures.

mod logistic;
pub mod metrics;
pub mod train;

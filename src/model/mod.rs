//! The churn model. `metrics` holds the validation measures the registry and monitoring
//! report (AUC-ROC, AUC-PR, precision at 80 % recall, Brier, calibration error, lift).

pub mod metrics;

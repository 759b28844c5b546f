//! Revenue retention: monthly MRR movements per account (new, expansion, contraction,
//! churn, reactivation) derived from the subscription lines, NRR and GRR over windows,
//! logo and revenue churn by segment, cohorts, survival by risk band, and the ROI of the
//! CS programme: the executive's dashboard.

pub mod db;
pub mod facts;
pub mod movements;
pub mod windows;

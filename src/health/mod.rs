//! Health scores: configuration (weights, bands), computation and breakdown.

pub mod score;

//! Statistics Keel computes itself, each tested against published reference values:
//! survival curves and the log-rank test (`survival`), proportions and their differences
//! for experiments (`proportions`), and the chi-squared distribution behind their p-values
//! (`chi2`).

pub mod chi2;
pub mod proportions;
pub mod survival;

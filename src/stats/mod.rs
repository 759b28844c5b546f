//! Statistics Keel computes itself, each tested against published reference values (or,
//! for randomisation, against its definition): survival curves and the log-rank test
//! (`survival`), proportions and their differences for experiments (`proportions`),
//! stratified permuted-block randomisation (`randomise`), the power of a two-arm test
//! (`power`), and the chi-squared distribution behind their p-values (`chi2`).

pub mod chi2;
pub mod power;
pub mod proportions;
pub mod randomise;
pub mod survival;

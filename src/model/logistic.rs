//! Weighted, L2-regularised logistic regression fitted by iteratively reweighted least
//! squares on standardised features: the interpretable baseline, whose contributions are
//! coefficient × (standardised) value.

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Logistic {
    /// Replaces a missing value: the training median.
    pub fill: Vec<f64>,
    pub mean: Vec<f64>,
    pub scale: Vec<f64>,
    pub coef: Vec<f64>,
    pub intercept: f64,
}

pub fn sigmoid(z: f64) -> f64 {
    1.0 / (1.0 + (-z).exp())
}

fn median(mut v: Vec<f64>) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Solves `a x = b` (Gaussian elimination with partial pivoting); `None` if singular.
fn solve(mut a: Vec<Vec<f64>>, mut b: Vec<f64>) -> Option<Vec<f64>> {
    let n = b.len();
    for col in 0..n {
        let pivot = (col..n).max_by(|&i, &j| a[i][col].abs().total_cmp(&a[j][col].abs()))?;
        if a[pivot][col].abs() < 1e-12 {
            return None;
        }
        a.swap(col, pivot);
        b.swap(col, pivot);
        for row in col + 1..n {
            let (upper, lower) = a.split_at_mut(row);
            let (pivot_row, target) = (&upper[col], &mut lower[0]);
            let f = target[col] / pivot_row[col];
            for (t, p) in target[col..].iter_mut().zip(&pivot_row[col..]) {
                *t -= f * p;
            }
            b[row] -= f * b[col];
        }
    }
    let mut x = vec![0.0; n];
    for row in (0..n).rev() {
        let s: f64 = (row + 1..n).map(|k| a[row][k] * x[k]).sum();
        x[row] = (b[row] - s) / a[row][row];
    }
    Some(x)
}

/// Fits `(intercept, coefficients)` on already-prepared rows by IRLS (Newton's method).
pub fn irls(z: &[Vec<f64>], y: &[bool], w: &[f64], l2: f64) -> (f64, Vec<f64>) {
    let k = z.first().map_or(0, Vec::len);
    let mut beta = vec![0.0; k + 1];
    for _ in 0..50 {
        let mut grad = vec![0.0; k + 1];
        let mut hess = vec![vec![0.0; k + 1]; k + 1];
        for ((row, &label), &weight) in z.iter().zip(y).zip(w) {
            let eta = beta[0] + row.iter().zip(&beta[1..]).map(|(x, b)| x * b).sum::<f64>();
            let p = sigmoid(eta);
            let r = weight * (f64::from(u8::from(label)) - p);
            let h = weight * p * (1.0 - p);
            let xs: Vec<f64> = std::iter::once(1.0).chain(row.iter().copied()).collect();
            for (i, xi) in xs.iter().enumerate() {
                grad[i] += r * xi;
                for (cell, xj) in hess[i][i..].iter_mut().zip(&xs[i..]) {
                    *cell += h * xi * xj;
                }
            }
        }
        for i in 1..=k {
            let (top, rest) = hess.split_at_mut(i);
            for (j, cell) in rest[0][..i].iter_mut().enumerate() {
                *cell = top[j][i];
            }
            grad[i] -= l2 * beta[i];
            rest[0][i] += l2;
        }
        let Some(step) = solve(hess, grad) else { break };
        let size: f64 = step.iter().map(|s| s.abs()).fold(0.0, f64::max);
        for (b, s) in beta.iter_mut().zip(&step) {
            *b += s;
        }
        if size < 1e-8 {
            break;
        }
    }
    (beta[0], beta[1..].to_vec())
}

impl Logistic {
    pub fn fit(x: &[Vec<f64>], y: &[bool], w: &[f64]) -> Logistic {
        let k = x.first().map_or(0, Vec::len);
        let fill: Vec<f64> = (0..k)
            .map(|j| median(x.iter().map(|r| r[j]).filter(|v| v.is_finite()).collect()))
            .collect();
        let filled: Vec<Vec<f64>> = x
            .iter()
            .map(|r| {
                (0..k)
                    .map(|j| if r[j].is_finite() { r[j] } else { fill[j] })
                    .collect()
            })
            .collect();
        let n = filled.len().max(1) as f64;
        let mean: Vec<f64> = (0..k)
            .map(|j| filled.iter().map(|r| r[j]).sum::<f64>() / n)
            .collect();
        let scale: Vec<f64> = (0..k)
            .map(|j| {
                let var = filled.iter().map(|r| (r[j] - mean[j]).powi(2)).sum::<f64>() / n;
                if var > 1e-12 { var.sqrt() } else { 1.0 }
            })
            .collect();
        let mut model = Logistic {
            fill,
            mean,
            scale,
            coef: vec![0.0; k],
            intercept: 0.0,
        };
        let z: Vec<Vec<f64>> = x.iter().map(|r| model.standardise(r)).collect();
        let (intercept, coef) = irls(&z, y, w, 1.0);
        model.intercept = intercept;
        model.coef = coef;
        model
    }

    fn standardise(&self, row: &[f64]) -> Vec<f64> {
        row.iter()
            .enumerate()
            .map(|(j, v)| {
                ((if v.is_finite() { *v } else { self.fill[j] }) - self.mean[j]) / self.scale[j]
            })
            .collect()
    }

    /// Per-feature contributions to the log-odds (coefficient × standardised value); the
    /// intercept is the bias.
    pub fn contributions(&self, row: &[f64]) -> Vec<f64> {
        self.standardise(row)
            .iter()
            .zip(&self.coef)
            .map(|(z, c)| z * c)
            .collect()
    }

    pub fn log_odds(&self, row: &[f64]) -> f64 {
        self.intercept + self.contributions(row).iter().sum::<f64>()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recovers_the_direction_of_effects_and_contributions_add_up() {
        // y is likelier with x0 and less likely with x1; x2 is noise.
        let mut x = Vec::new();
        let mut y = Vec::new();
        for i in 0..2000 {
            let a = ((i * 37) % 101) as f64 / 100.0;
            let b = ((i * 53) % 97) as f64 / 96.0;
            let c = ((i * 17) % 89) as f64;
            let p = sigmoid(3.0 * a - 2.0 * b - 0.5);
            x.push(vec![a, b, c]);
            y.push(((i * 7919) % 1000) as f64 / 1000.0 < p);
        }
        let m = Logistic::fit(&x, &y, &vec![1.0; x.len()]);
        assert!(m.coef[0] > 0.3 && m.coef[1] < -0.3, "{:?}", m.coef);
        assert!(m.coef[2].abs() < m.coef[0].abs() / 3.0, "{:?}", m.coef);
        let row = [0.9, f64::NAN, 3.0];
        let total = m.intercept + m.contributions(&row).iter().sum::<f64>();
        assert!((total - m.log_odds(&row)).abs() < 1e-12);
    }
}

//! Gradient-boosted decision trees for log loss, and their exact Shapley explanations.
//!
//! Each round fits one depth-limited regression tree to the gradient of the weighted log
//! loss (second-order, as XGBoost does) on features cut into quantile bins; a missing value
//! learns which side of each split it belongs on. Leaves are shrunk by the learning rate
//! and an L2 penalty. Training is sequential and seeded by nothing, so the same rows always
//! give the same model. Per-row contributions use the path-dependent TreeSHAP algorithm
//! (Lundberg et al., 2018): for every row they plus the model's expected value equal its
//! raw output.

use serde::{Deserialize, Serialize};

use super::logistic::sigmoid;

mod shap;

/// How the trees are grown.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Params {
    pub rounds: usize,
    pub learning_rate: f64,
    pub max_depth: usize,
    /// The least hessian (weighted rows × p(1 − p)) a leaf may hold.
    pub min_child_weight: f64,
    /// L2 penalty on leaf values.
    pub lambda: f64,
    /// Quantile bins per feature (at most 255).
    pub bins: usize,
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
enum Node {
    /// `x < threshold` goes left; a missing value goes where training sent it.
    Split {
        feature: usize,
        threshold: f64,
        missing_left: bool,
        left: usize,
        right: usize,
        cover: f64,
    },
    Leaf {
        value: f64,
        cover: f64,
    },
}

impl Node {
    fn cover(&self) -> f64 {
        match self {
            Node::Split { cover, .. } | Node::Leaf { cover, .. } => *cover,
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
struct Tree {
    nodes: Vec<Node>,
}

/// A fitted ensemble: raw output = `base` + the sum of the trees' leaves (log-odds).
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq)]
pub struct Booster {
    base: f64,
    trees: Vec<Tree>,
}

const MISSING: u8 = u8::MAX;

/// Each feature's cut points (quantiles of its present values) and its rows' bins.
struct Binned {
    cuts: Vec<Vec<f64>>,
    /// Column-major bin of each row: the number of cuts ≤ the value, or `MISSING`.
    bins: Vec<Vec<u8>>,
}

impl Binned {
    fn new(x: &[Vec<f64>], max_bins: usize) -> Binned {
        let k = x.first().map_or(0, Vec::len);
        let max_bins = max_bins.clamp(2, usize::from(MISSING));
        let mut cuts = Vec::with_capacity(k);
        let mut bins = Vec::with_capacity(k);
        for j in 0..k {
            let mut present: Vec<f64> = x.iter().map(|r| r[j]).filter(|v| !v.is_nan()).collect();
            present.sort_by(f64::total_cmp);
            let mut distinct = present.clone();
            distinct.dedup();
            // Few distinct values (counts, flags, scores) get a cut at each, so a rare value
            // such as a downgrade can still be split off; many get quantile cuts.
            let mut c: Vec<f64> = if distinct.len() <= max_bins {
                distinct
            } else {
                (1..max_bins)
                    .filter_map(|q| present.get(q * present.len() / max_bins).copied())
                    .collect()
            };
            c.dedup();
            // A cut at the smallest value separates nothing.
            if !c.is_empty() && c.first() == present.first() {
                c.remove(0);
            }
            bins.push(
                x.iter()
                    .map(|r| {
                        let v = r[j];
                        if v.is_nan() {
                            MISSING
                        } else {
                            c.partition_point(|t| *t <= v) as u8
                        }
                    })
                    .collect(),
            );
            cuts.push(c);
        }
        Binned { cuts, bins }
    }
}

/// Gradient and hessian sums.
#[derive(Clone, Copy, Default)]
struct Sums {
    g: f64,
    h: f64,
    w: f64,
}

impl Sums {
    fn add(&mut self, o: Sums) {
        self.g += o.g;
        self.h += o.h;
        self.w += o.w;
    }

    fn minus(self, o: Sums) -> Sums {
        Sums {
            g: self.g - o.g,
            h: self.h - o.h,
            w: self.w - o.w,
        }
    }

    fn score(self, lambda: f64) -> f64 {
        self.g * self.g / (self.h + lambda)
    }
}

struct Best {
    gain: f64,
    feature: usize,
    cut: usize,
    missing_left: bool,
}

struct Grower<'a> {
    data: &'a Binned,
    params: &'a Params,
    grad: Vec<Sums>,
    nodes: Vec<Node>,
}

impl Grower<'_> {
    fn best_split(&self, rows: &[u32], total: Sums) -> Option<Best> {
        let p = self.params;
        let parent = total.score(p.lambda);
        let mut best: Option<Best> = None;
        for (feature, column) in self.data.bins.iter().enumerate() {
            let n_cuts = self.data.cuts[feature].len();
            if n_cuts == 0 {
                continue;
            }
            let mut hist = vec![Sums::default(); n_cuts + 1];
            let mut missing = Sums::default();
            for &r in rows {
                let b = column[r as usize];
                let s = self.grad[r as usize];
                if b == MISSING {
                    missing.add(s);
                } else {
                    hist[usize::from(b)].add(s);
                }
            }
            let present = total.minus(missing);
            // Without missing values both directions are the same split.
            let directions: &[bool] = if missing.w > 0.0 {
                &[false, true]
            } else {
                &[false]
            };
            let mut left = Sums::default();
            for cut in 1..=n_cuts {
                left.add(hist[cut - 1]);
                let right = present.minus(left);
                for &missing_left in directions {
                    let (l, r) = if missing_left {
                        let mut l = left;
                        l.add(missing);
                        (l, right)
                    } else {
                        let mut r = right;
                        r.add(missing);
                        (left, r)
                    };
                    if l.h < p.min_child_weight || r.h < p.min_child_weight {
                        continue;
                    }
                    let gain = l.score(p.lambda) + r.score(p.lambda) - parent;
                    if gain > best.as_ref().map_or(1e-12, |b| b.gain) {
                        best = Some(Best {
                            gain,
                            feature,
                            cut,
                            missing_left,
                        });
                    }
                }
            }
        }
        best
    }

    /// Grows the subtree over `rows`, returning its node index.
    fn grow(&mut self, rows: Vec<u32>, depth: usize) -> usize {
        let mut total = Sums::default();
        for &r in &rows {
            total.add(self.grad[r as usize]);
        }
        let split = if depth < self.params.max_depth {
            self.best_split(&rows, total)
        } else {
            None
        };
        let index = self.nodes.len();
        let Some(best) = split else {
            self.nodes.push(Node::Leaf {
                value: -total.g / (total.h + self.params.lambda) * self.params.learning_rate,
                cover: total.w,
            });
            return index;
        };
        let column = &self.data.bins[best.feature];
        let (l, r): (Vec<u32>, Vec<u32>) = rows.iter().partition(|&&i| {
            let b = column[i as usize];
            if b == MISSING {
                best.missing_left
            } else {
                usize::from(b) < best.cut
            }
        });
        // Placeholder until the children's indices are known.
        self.nodes.push(Node::Leaf {
            value: 0.0,
            cover: 0.0,
        });
        let left = self.grow(l, depth + 1);
        let right = self.grow(r, depth + 1);
        self.nodes[index] = Node::Split {
            feature: best.feature,
            threshold: self.data.cuts[best.feature][best.cut - 1],
            missing_left: best.missing_left,
            left,
            right,
            cover: total.w,
        };
        index
    }
}

impl Booster {
    /// Fits on rows `x` (`f64::NAN` = missing) with labels and sample weights.
    pub fn fit(x: &[Vec<f64>], y: &[bool], weights: &[f64], params: &Params) -> Booster {
        let data = Binned::new(x, params.bins);
        let weight_sum: f64 = weights.iter().sum();
        let positive: f64 = y
            .iter()
            .zip(weights)
            .filter(|(y, _)| **y)
            .map(|(_, w)| w)
            .sum();
        let rate = (positive / weight_sum.max(f64::MIN_POSITIVE)).clamp(1e-6, 1.0 - 1e-6);
        let base = (rate / (1.0 - rate)).ln();
        let mut raw = vec![base; y.len()];
        let mut trees = Vec::with_capacity(params.rounds);
        let all: Vec<u32> = (0..y.len() as u32).collect();
        for _ in 0..params.rounds {
            let grad = raw
                .iter()
                .zip(y)
                .zip(weights)
                .map(|((&z, &y), &w)| {
                    let p = sigmoid(z);
                    Sums {
                        g: w * (p - f64::from(u8::from(y))),
                        h: w * (p * (1.0 - p)).max(1e-16),
                        w,
                    }
                })
                .collect();
            let mut grower = Grower {
                data: &data,
                params,
                grad,
                nodes: Vec::new(),
            };
            grower.grow(all.clone(), 0);
            let tree = Tree {
                nodes: grower.nodes,
            };
            for (z, row) in raw.iter_mut().zip(x) {
                *z += tree.output(row);
            }
            trees.push(tree);
        }
        Booster { base, trees }
    }

    /// Raw output (log-odds) of one row.
    pub fn log_odds(&self, row: &[f64]) -> f64 {
        self.base + self.trees.iter().map(|t| t.output(row)).sum::<f64>()
    }

    /// The expected raw output over the training rows (the explanations' bias).
    pub fn expected_value(&self) -> f64 {
        self.base + self.trees.iter().map(Tree::expected_value).sum::<f64>()
    }

    /// Exact Shapley contributions of each feature to one row's raw output.
    pub fn contributions(&self, row: &[f64]) -> Vec<f64> {
        let mut phi = vec![0.0; row.len()];
        for tree in &self.trees {
            tree.add_contributions(row, &mut phi);
        }
        phi
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PARAMS: Params = Params {
        rounds: 40,
        learning_rate: 0.3,
        max_depth: 3,
        min_child_weight: 1.0,
        lambda: 1.0,
        bins: 32,
    };

    /// Rows over three features with an interaction and missing values.
    fn rows(n: usize) -> (Vec<Vec<f64>>, Vec<bool>) {
        let mut rand = crate::model::uniform(11);
        let mut x = Vec::new();
        let mut y = Vec::new();
        for _ in 0..n {
            let (a, b, c) = (rand(), rand(), rand());
            let z = if a > 0.5 && b > 0.5 { 2.0 } else { -1.5 } + c - 0.5;
            y.push(rand() < sigmoid(z));
            x.push(vec![a, if rand() < 0.2 { f64::NAN } else { b }, c]);
        }
        (x, y)
    }

    /// Shapley values by their definition: every coalition of features, with a feature
    /// outside the coalition integrated out over the training covers.
    fn brute_force(model: &Booster, row: &[f64]) -> Vec<f64> {
        fn expected(tree: &Tree, at: usize, row: &[f64], known: u32) -> f64 {
            match &tree.nodes[at] {
                Node::Leaf { value, .. } => *value,
                node @ Node::Split {
                    feature,
                    left,
                    right,
                    cover,
                    ..
                } => {
                    if known & (1 << feature) != 0 {
                        let next = if Tree::goes_left(node, row) {
                            *left
                        } else {
                            *right
                        };
                        expected(tree, next, row, known)
                    } else {
                        [*left, *right]
                            .iter()
                            .map(|&c| tree.nodes[c].cover() / cover * expected(tree, c, row, known))
                            .sum()
                    }
                }
            }
        }
        let value =
            |known: u32| -> f64 { model.trees.iter().map(|t| expected(t, 0, row, known)).sum() };
        let k = row.len();
        let factorial = |n: usize| (1..=n).product::<usize>() as f64;
        (0..k)
            .map(|i| {
                (0..1u32 << k)
                    .filter(|s| s & (1 << i) == 0)
                    .map(|s| {
                        let size = s.count_ones() as usize;
                        factorial(size) * factorial(k - size - 1) / factorial(k)
                            * (value(s | 1 << i) - value(s))
                    })
                    .sum()
            })
            .collect()
    }

    #[test]
    fn contributions_are_the_exact_shapley_values_and_add_up_to_the_output() {
        let (x, y) = rows(2000);
        let model = Booster::fit(&x, &y, &vec![1.0; y.len()], &PARAMS);
        for row in x.iter().take(25) {
            let phi = model.contributions(row);
            let exact = brute_force(&model, row);
            for (a, b) in phi.iter().zip(&exact) {
                assert!(
                    (a - b).abs() < 1e-9,
                    "TreeSHAP {phi:?} vs definition {exact:?}"
                );
            }
            let total = phi.iter().sum::<f64>() + model.expected_value();
            assert!((total - model.log_odds(row)).abs() < 1e-9);
        }
    }

    #[test]
    fn a_feature_without_any_value_or_with_one_value_is_never_split_on() {
        let (x, y) = rows(500);
        let x: Vec<Vec<f64>> = x
            .into_iter()
            .map(|mut r| {
                r.extend([f64::NAN, 3.0]);
                r
            })
            .collect();
        let model = Booster::fit(&x, &y, &vec![1.0; y.len()], &PARAMS);
        let phi = model.contributions(&x[0]);
        assert_eq!((phi[3], phi[4]), (0.0, 0.0));
        assert!(model.log_odds(&x[0]).is_finite());
    }

    #[test]
    fn trees_learn_an_interaction_and_route_missing_values() {
        let (x, y) = rows(4000);
        let model = Booster::fit(&x, &y, &vec![1.0; y.len()], &PARAMS);
        let p = |row: &[f64]| sigmoid(model.log_odds(row));
        assert!(p(&[0.9, 0.9, 0.5]) > 0.7, "{}", p(&[0.9, 0.9, 0.5]));
        assert!(p(&[0.9, 0.1, 0.5]) < 0.3);
        assert!(p(&[0.1, 0.9, 0.5]) < 0.3);
        // A missing second feature lands between its two sides.
        let unknown = p(&[0.9, f64::NAN, 0.5]);
        assert!(unknown > p(&[0.9, 0.1, 0.5]) && unknown < p(&[0.9, 0.9, 0.5]));
        // Same rows, same model.
        assert_eq!(model, Booster::fit(&x, &y, &vec![1.0; y.len()], &PARAMS));
    }
}

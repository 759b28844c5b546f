//! Path-dependent TreeSHAP (Lundberg et al., 2018): each feature's exact Shapley
//! contribution to one tree's output for a row, and the tree's output itself.

use super::{Node, Tree};

/// One element of the path TreeSHAP follows: a feature met on the way down, the share of
/// training rows that went this way ("zero") and whether the row itself did ("one").
#[derive(Clone, Copy)]
struct PathElement {
    feature: usize,
    zero: f64,
    one: f64,
    weight: f64,
}

fn extend(path: &mut Vec<PathElement>, zero: f64, one: f64, feature: usize) {
    let l = path.len();
    path.push(PathElement {
        feature,
        zero,
        one,
        weight: if l == 0 { 1.0 } else { 0.0 },
    });
    for i in (0..l).rev() {
        path[i + 1].weight += one * path[i].weight * (i + 1) as f64 / (l + 1) as f64;
        path[i].weight = zero * path[i].weight * (l - i) as f64 / (l + 1) as f64;
    }
}

fn unwind(path: &mut Vec<PathElement>, i: usize) {
    let l = path.len() - 1;
    let (one, zero) = (path[i].one, path[i].zero);
    let mut next = path[l].weight;
    for j in (0..l).rev() {
        if one != 0.0 {
            let kept = path[j].weight;
            path[j].weight = next * (l + 1) as f64 / ((j + 1) as f64 * one);
            next = kept - path[j].weight * zero * (l - j) as f64 / (l + 1) as f64;
        } else {
            path[j].weight = path[j].weight * (l + 1) as f64 / (zero * (l - j) as f64);
        }
    }
    for j in i..l {
        path[j].feature = path[j + 1].feature;
        path[j].zero = path[j + 1].zero;
        path[j].one = path[j + 1].one;
    }
    path.pop();
}

/// The total weight of the path were element `i` unwound from it.
fn unwound_sum(path: &[PathElement], i: usize) -> f64 {
    let l = path.len() - 1;
    let (one, zero) = (path[i].one, path[i].zero);
    let mut total = 0.0;
    if one != 0.0 {
        let mut next = path[l].weight;
        for j in (0..l).rev() {
            let w = next * (l + 1) as f64 / ((j + 1) as f64 * one);
            total += w;
            next = path[j].weight - w * zero * (l - j) as f64 / (l + 1) as f64;
        }
    } else {
        for j in (0..l).rev() {
            total += path[j].weight * (l + 1) as f64 / (zero * (l - j) as f64);
        }
    }
    total
}

impl Tree {
    pub(super) fn goes_left(node: &Node, row: &[f64]) -> bool {
        match node {
            Node::Split {
                feature,
                threshold,
                missing_left,
                ..
            } => {
                let v = row[*feature];
                if v.is_nan() {
                    *missing_left
                } else {
                    v < *threshold
                }
            }
            Node::Leaf { .. } => false,
        }
    }

    pub(super) fn output(&self, row: &[f64]) -> f64 {
        let mut i = 0;
        loop {
            match &self.nodes[i] {
                Node::Leaf { value, .. } => return *value,
                node @ Node::Split { left, right, .. } => {
                    i = if Self::goes_left(node, row) {
                        *left
                    } else {
                        *right
                    };
                }
            }
        }
    }

    pub(super) fn expected_value(&self) -> f64 {
        let root = self.nodes.first().map_or(0.0, Node::cover);
        if root <= 0.0 {
            return 0.0;
        }
        self.nodes
            .iter()
            .map(|n| match n {
                Node::Leaf { value, cover } => value * cover / root,
                Node::Split { .. } => 0.0,
            })
            .sum()
    }

    /// Adds this tree's exact Shapley contributions for `row` to `phi`.
    pub(super) fn add_contributions(&self, row: &[f64], phi: &mut [f64]) {
        self.shap(0, row, phi, Vec::new(), 1.0, 1.0, usize::MAX);
    }

    #[allow(clippy::too_many_arguments)]
    fn shap(
        &self,
        at: usize,
        row: &[f64],
        phi: &mut [f64],
        mut path: Vec<PathElement>,
        zero: f64,
        one: f64,
        feature: usize,
    ) {
        extend(&mut path, zero, one, feature);
        let node = &self.nodes[at];
        match node {
            Node::Leaf { value, .. } => {
                for i in 1..path.len() {
                    let w = unwound_sum(&path, i);
                    phi[path[i].feature] += w * (path[i].one - path[i].zero) * value;
                }
            }
            Node::Split {
                feature: split,
                left,
                right,
                cover,
                ..
            } => {
                let (hot, cold) = if Self::goes_left(node, row) {
                    (*left, *right)
                } else {
                    (*right, *left)
                };
                let (mut incoming_zero, mut incoming_one) = (1.0, 1.0);
                if let Some(k) = (1..path.len()).find(|&k| path[k].feature == *split) {
                    incoming_zero = path[k].zero;
                    incoming_one = path[k].one;
                    unwind(&mut path, k);
                }
                let share = |child: usize| self.nodes[child].cover() / cover;
                self.shap(
                    hot,
                    row,
                    phi,
                    path.clone(),
                    incoming_zero * share(hot),
                    incoming_one,
                    *split,
                );
                self.shap(
                    cold,
                    row,
                    phi,
                    path,
                    incoming_zero * share(cold),
                    0.0,
                    *split,
                );
            }
        }
    }
}

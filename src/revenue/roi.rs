//! The ROI of the CS programme, as the health-scoring guide's template computes it:
//! ARR retained = ARR at risk × churn reduction; payback (months) = cost / (ARR retained ×
//! gross margin) × 12; net ROI = (ARR retained − cost) / cost. Best, likely and worst cases
//! side by side, from inputs the page pre-fills and the reader may change.

use serde::Deserialize;

/// What the reader may change; each case has its own reduction and cost.
#[derive(Clone, Debug, Deserialize)]
pub struct Inputs {
    /// Dollars of ARR at risk.
    pub arr_at_risk: f64,
    /// Churn reduction, percent, best / likely / worst.
    pub reduction: [f64; 3],
    /// Annual cost of tooling and labour, dollars, best / likely / worst.
    pub cost: [f64; 3],
    /// Gross margin, percent.
    pub margin: f64,
}

impl Inputs {
    /// The guide's template with this book's ARR at risk.
    pub fn defaults(arr_at_risk: f64) -> Inputs {
        Inputs {
            arr_at_risk,
            reduction: [15.0, 10.0, 5.0],
            cost: [100_000.0, 150_000.0, 200_000.0],
            margin: 75.0,
        }
    }
}

/// One case's outcome.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Case {
    pub arr_retained: f64,
    /// None when nothing is retained (never paid back).
    pub payback_months: Option<f64>,
    /// None when the cost is zero.
    pub net_roi: Option<f64>,
}

pub fn case(arr_at_risk: f64, reduction_pct: f64, cost: f64, margin_pct: f64) -> Case {
    let arr_retained = arr_at_risk * reduction_pct / 100.0;
    let yearly_profit = arr_retained * margin_pct / 100.0;
    Case {
        arr_retained,
        payback_months: (yearly_profit > 0.0).then(|| cost / yearly_profit * 12.0),
        net_roi: (cost > 0.0).then(|| (arr_retained - cost) / cost),
    }
}

/// Best, likely and worst.
pub fn cases(i: &Inputs) -> [Case; 3] {
    [0, 1, 2].map(|k| case(i.arr_at_risk, i.reduction[k], i.cost[k], i.margin))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_guides_template_rows() {
        // The guide's table: ARR at risk $2M / $1.5M / $1M, reduction 15 / 10 / 5 %,
        // cost $100K / $150K / $200K → ARR retained $300K / $150K / $50K and net ROI
        // 200 % / 0 % / −75 %.
        let rows = [
            (2_000_000.0, 15.0, 100_000.0, 300_000.0, 2.0),
            (1_500_000.0, 10.0, 150_000.0, 150_000.0, 0.0),
            (1_000_000.0, 5.0, 200_000.0, 50_000.0, -0.75),
        ];
        for (risk, reduction, cost, retained, roi) in rows {
            let c = case(risk, reduction, cost, 75.0);
            assert!((c.arr_retained - retained).abs() < 1e-6);
            assert!((c.net_roi.unwrap() - roi).abs() < 1e-12);
        }
        // Payback with its formula, margin included: $150K / ($150K × 75 %) = 16 months.
        // (The guide's table prints 12, 4 and 48 months, which leave the margin out.)
        let likely = case(1_500_000.0, 10.0, 150_000.0, 75.0);
        assert!((likely.payback_months.unwrap() - 16.0).abs() < 1e-9);
        assert_eq!(case(0.0, 10.0, 1.0, 75.0).payback_months, None);
    }
}

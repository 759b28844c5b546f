//! Small server-rendered SVG charts: no chart library to ship, nothing to run in the browser.
//! Each function lays a chart out (coordinates already formatted); its askama template in
//! `templates/charts/` draws it, escaping every label. A page template shows one with
//! `{% if let Some(chart) = … %}{% include "charts/<kind>.html" %}`. Every chart carries an
//! accessible label and its numbers in `<title>` tooltips.

mod dated;
pub mod revenue;

pub use dated::{DatedChart, dated};

const W: f64 = 600.0;
const H: f64 = 200.0;
const PAD: f64 = 28.0;

/// A coordinate to one decimal, as whole tenths: a page draws hundreds of them, and
/// integer formatting costs a fraction of `{:.1}`'s exact float formatting.
fn px(v: f64) -> String {
    let tenths = (v * 10.0).round() as i64;
    let sign = if tenths < 0 { "-" } else { "" };
    let t = tenths.unsigned_abs();
    format!("{sign}{}.{}", t / 10, t % 10)
}

/// An SVG `points` list ("x,y x,y …") from coordinates already formatted by [`px`], joined
/// in one string.
fn polyline<'a>(coordinates: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut line = String::new();
    for (i, (x, y)) in coordinates.into_iter().enumerate() {
        if i > 0 {
            line.push(' ');
        }
        line.push_str(x);
        line.push(',');
        line.push_str(y);
    }
    line
}

/// One bar, and the name under it.
pub struct Bar {
    pub x: String,
    pub y: String,
    pub width: String,
    pub height: String,
    pub name: String,
    pub value: String,
    pub name_x: String,
    /// Where the value is written, just above the bar.
    pub value_y: String,
}

/// Vertical bars (`templates/charts/bars.html`).
pub struct BarChart {
    pub label: String,
    pub bars: Vec<Bar>,
    pub name_y: String,
    /// A dashed reference line across the bars (the base rate of a lift chart).
    pub baseline: Option<Mark>,
}

/// A reference line: where it sits and what it says.
pub struct Mark {
    pub at: String,
    pub text: String,
}

/// Vertical bars, one per value, labelled underneath; `unit` formats each value's tooltip.
pub fn bars(label: &str, values: &[(String, f64)], unit: impl Fn(f64) -> String) -> BarChart {
    let max = values.iter().map(|v| v.1).fold(0.0, f64::max).max(1e-9);
    let slot = (W - 2.0 * PAD) / values.len().max(1) as f64;
    let bars = values
        .iter()
        .enumerate()
        .map(|(i, (name, v))| {
            let h = (H - 2.0 * PAD) * v / max;
            let x = PAD + slot * i as f64;
            Bar {
                x: px(x + 2.0),
                y: px(H - PAD - h),
                width: px(slot - 4.0),
                height: px(h),
                name: name.clone(),
                value: unit(*v),
                name_x: px(x + slot / 2.0),
                value_y: px(H - PAD - h - 4.0),
            }
        })
        .collect();
    BarChart {
        label: label.to_owned(),
        bars,
        name_y: px(H - PAD + 12.0),
        baseline: None,
    }
}

/// Lift by decile of predicted risk (the first the riskiest tenth), each bar its multiple of
/// the base rate, with the base rate itself (1×, no better than chance) as a dashed line.
pub fn lift(label: &str, lifts: &[f64]) -> BarChart {
    let deciles: Vec<(String, f64)> = lifts
        .iter()
        .enumerate()
        .map(|(i, l)| ((i + 1).to_string(), *l))
        .collect();
    let mut chart = bars(label, &deciles, |v| format!("{v:.1}×"));
    let max = lifts.iter().copied().fold(0.0, f64::max).max(1e-9);
    chart.baseline = Some(Mark {
        at: px(H - PAD - (H - 2.0 * PAD) * (1.0 / max).min(1.0)),
        text: "base rate (1×)".into(),
    });
    chart
}

/// One calibration bin: where it sits and how many rows it holds.
pub struct Dot {
    pub x: String,
    pub y: String,
    pub r: String,
    pub predicted: String,
    pub observed: String,
    pub rows: usize,
}

/// Predicted against observed (`templates/charts/calibration.html`).
pub struct CalibrationChart {
    pub label: String,
    /// The diagonal of perfect calibration: x0, y0, x1, y1.
    pub diagonal: [String; 4],
    pub dots: Vec<Dot>,
}

/// Predicted against observed, both 0–1, with the diagonal of perfect calibration; a point's
/// area follows its count.
pub fn calibration(label: &str, points: &[(f64, f64, usize)]) -> CalibrationChart {
    let scale = |p: f64, q: f64| {
        (
            PAD + (W - 2.0 * PAD) * p.clamp(0.0, 1.0),
            H - PAD - (H - 2.0 * PAD) * q.clamp(0.0, 1.0),
        )
    };
    let (x0, y0) = scale(0.0, 0.0);
    let (x1, y1) = scale(1.0, 1.0);
    let max = points.iter().map(|p| p.2).max().unwrap_or(1).max(1) as f64;
    let dots = points
        .iter()
        .map(|&(predicted, observed, n)| {
            let (x, y) = scale(predicted, observed);
            Dot {
                x: px(x),
                y: px(y),
                r: px(3.0 + 7.0 * (n as f64 / max).sqrt()),
                predicted: format!("{predicted:.3}"),
                observed: format!("{observed:.3}"),
                rows: n,
            }
        })
        .collect();
    CalibrationChart {
        label: label.to_owned(),
        diagonal: [px(x0), px(y0), px(x1), px(y1)],
        dots,
    }
}

#[cfg(test)]
mod tests {
    use askama::Template;

    use super::*;

    #[test]
    fn coordinates_round_to_tenths() {
        assert_eq!(px(48.0), "48.0");
        assert_eq!(px(172.04), "172.0");
        assert_eq!(px(172.06), "172.1");
        assert_eq!(px(0.96), "1.0");
        assert_eq!(px(-3.25), "-3.3", "half away from zero");
        assert_eq!(px(-0.04), "0.0", "no negative zero");
    }

    #[derive(Template)]
    #[template(source = r#"{% include "charts/bars.html" %}"#, ext = "html")]
    struct Bars<'a> {
        chart: &'a BarChart,
    }

    #[test]
    fn charts_escape_their_labels_and_show_every_value() {
        let chart = bars(
            "Lift <by> decile",
            &[("1".into(), 5.0), ("2".into(), 2.5)],
            |v| format!("{v:.1}×"),
        );
        assert_eq!(
            chart.bars[0].height, "144.0",
            "the largest value fills the plot"
        );
        assert_eq!(chart.bars[1].height, "72.0");
        let svg = Bars { chart: &chart }.render().unwrap();
        assert!(svg.contains("Lift &#60;by&#62; decile"), "{svg}");
        assert!(svg.contains("1: 5.0×") && svg.contains("2: 2.5×"));
        let chart = lift("Lift", &[4.0, 2.0, 0.5]);
        let base = chart.baseline.as_ref().unwrap();
        // 1× is a quarter of the tallest bar (4×): 36 above the plot's foot at 172.
        assert_eq!(base.at, "136.0");
        let svg = Bars { chart: &chart }.render().unwrap();
        assert!(
            svg.contains("base rate (1×)") && svg.contains(">4.0×<"),
            "{svg}"
        );
    }
}

//! Small server-rendered SVG charts: no chart library to ship, nothing to run in the browser.
//! Every chart carries an accessible label and its numbers in `<title>` tooltips.

use std::fmt::Write;

const W: f64 = 600.0;
const H: f64 = 200.0;
const PAD: f64 = 28.0;

fn open(label: &str) -> String {
    format!(
        r#"<svg class="chart" viewBox="0 0 {W} {H}" role="img" aria-label="{}">"#,
        escape(label)
    )
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Vertical bars, one per value, labelled underneath; `unit` formats each value's tooltip.
pub fn bars(label: &str, values: &[(String, f64)], unit: impl Fn(f64) -> String) -> String {
    let mut svg = open(label);
    let max = values.iter().map(|v| v.1).fold(0.0, f64::max).max(1e-9);
    let slot = (W - 2.0 * PAD) / values.len().max(1) as f64;
    for (i, (name, v)) in values.iter().enumerate() {
        let h = (H - 2.0 * PAD) * v / max;
        let x = PAD + slot * i as f64;
        let _ = write!(
            svg,
            r##"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{h:.1}" fill="#1f5fbf"><title>{}: {}</title></rect><text x="{:.1}" y="{}" font-size="10" text-anchor="middle" fill="#667085">{}</text>"##,
            x + 2.0,
            H - PAD - h,
            slot - 4.0,
            escape(name),
            unit(*v),
            x + slot / 2.0,
            H - PAD + 12.0,
            escape(name)
        );
    }
    svg.push_str("</svg>");
    svg
}

/// Predicted against observed, both 0–1, with the diagonal of perfect calibration; a point's
/// area follows its count.
pub fn calibration(label: &str, points: &[(f64, f64, usize)]) -> String {
    let mut svg = open(label);
    let scale = |p: f64, q: f64| {
        (
            PAD + (W - 2.0 * PAD) * p.clamp(0.0, 1.0),
            H - PAD - (H - 2.0 * PAD) * q.clamp(0.0, 1.0),
        )
    };
    let (x0, y0) = scale(0.0, 0.0);
    let (x1, y1) = scale(1.0, 1.0);
    let _ = write!(
        svg,
        r##"<line x1="{x0}" y1="{y0}" x2="{x1}" y2="{y1}" stroke="#98a2b3" stroke-dasharray="4 4"/><text x="{PAD}" y="{}" font-size="10" fill="#667085">predicted →</text><text x="4" y="{}" font-size="10" fill="#667085">observed</text>"##,
        H - 4.0,
        PAD - 10.0
    );
    let max = points.iter().map(|p| p.2).max().unwrap_or(1).max(1) as f64;
    for &(predicted, observed, n) in points {
        let (x, y) = scale(predicted, observed);
        let r = 3.0 + 7.0 * (n as f64 / max).sqrt();
        let _ = write!(
            svg,
            r##"<circle cx="{x:.1}" cy="{y:.1}" r="{r:.1}" fill="#1f5fbf" fill-opacity="0.6"><title>predicted {predicted:.3}, observed {observed:.3} ({n} rows)</title></circle>"##
        );
    }
    svg.push_str("</svg>");
    svg
}

/// A line over dated values (`x` in days from the first point), with vertical markers at
/// `marks` (same x scale) and a fixed y range.
pub fn line(
    label: &str,
    points: &[(f64, f64)],
    y_range: (f64, f64),
    marks: &[(f64, String)],
) -> String {
    let mut svg = open(label);
    let x_max = points.iter().map(|p| p.0).fold(1.0, f64::max);
    let sx = |x: f64| PAD + (W - 2.0 * PAD) * x / x_max;
    let sy = |y: f64| {
        H - PAD - (H - 2.0 * PAD) * ((y - y_range.0) / (y_range.1 - y_range.0)).clamp(0.0, 1.0)
    };
    for (x, text) in marks {
        let _ = write!(
            svg,
            r##"<line class="mark" x1="{0:.1}" y1="{PAD}" x2="{0:.1}" y2="{1}" stroke="#b54708" stroke-dasharray="3 3"><title>{2}</title></line><text x="{0:.1}" y="{3}" font-size="10" fill="#b54708">{2}</text>"##,
            sx(*x),
            H - PAD,
            escape(text),
            PAD - 6.0
        );
    }
    let path: Vec<String> = points
        .iter()
        .map(|(x, y)| format!("{:.1},{:.1}", sx(*x), sy(*y)))
        .collect();
    let _ = write!(
        svg,
        r##"<polyline fill="none" stroke="#1f5fbf" stroke-width="2" points="{}"/>"##,
        path.join(" ")
    );
    svg.push_str("</svg>");
    svg
}

/// Several series on one 0–100 scale (each already normalised), with a legend.
pub fn lines(label: &str, series: &[(String, Vec<(f64, f64)>)]) -> String {
    const COLOURS: [&str; 4] = ["#1f5fbf", "#b54708", "#067647", "#6941c6"];
    let mut svg = open(label);
    let x_max = series
        .iter()
        .flat_map(|s| s.1.iter().map(|p| p.0))
        .fold(1.0, f64::max);
    let sx = |x: f64| PAD + (W - 2.0 * PAD) * x / x_max;
    let sy = |y: f64| H - PAD - (H - 2.0 * PAD) * (y / 100.0).clamp(0.0, 1.0);
    for (i, (name, points)) in series.iter().enumerate() {
        let colour = COLOURS[i % COLOURS.len()];
        let path: Vec<String> = points
            .iter()
            .map(|(x, y)| format!("{:.1},{:.1}", sx(*x), sy(*y)))
            .collect();
        let _ = write!(
            svg,
            r##"<polyline fill="none" stroke="{colour}" stroke-width="1.5" points="{}"><title>{}</title></polyline><text x="{:.1}" y="12" font-size="11" fill="{colour}">{}</text>"##,
            path.join(" "),
            escape(name),
            PAD + 190.0 * i as f64,
            escape(name)
        );
    }
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charts_escape_their_labels_and_show_every_value() {
        let svg = bars(
            "Lift <by> decile",
            &[("1".into(), 5.0), ("2".into(), 2.5)],
            |v| format!("{v:.1}×"),
        );
        assert!(svg.contains("Lift &lt;by&gt; decile"));
        assert!(svg.contains("1: 5.0×") && svg.contains("2: 2.5×"));
        let svg = line(
            "History",
            &[(0.0, 50.0), (7.0, 40.0)],
            (0.0, 100.0),
            &[(3.0, "weights v2".into())],
        );
        assert!(svg.contains("weights v2") && svg.contains("<polyline"));
    }
}

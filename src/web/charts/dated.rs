//! A value over dates, with its axes: dates along the bottom, the value's unit up the side, a
//! dot per day carrying its date and value on hover, and dashed marks for events worth naming.

use time::Date;
use time::macros::format_description;

use super::revenue::Tick;
use super::{H, PAD, W, polyline, px};
use crate::web::format::grouped;

/// Room for the value labels left of the plot.
const LEFT: f64 = 48.0;

/// A dot with its tooltip ("2026-03-03: 42 active users").
pub struct Dot {
    pub x: String,
    pub y: String,
    pub tip: String,
}

/// A dashed vertical marker with its note.
pub struct Mark {
    pub x: String,
    pub text: String,
}

/// One series over dates (`templates/charts/dated.html`).
pub struct DatedChart {
    pub label: String,
    pub y_ticks: Vec<Tick>,
    pub x_ticks: Vec<Tick>,
    pub points: String,
    pub dots: Vec<Dot>,
    pub marks: Vec<Mark>,
}

fn short(d: Date) -> String {
    d.format(format_description!("[month repr:short] [day padding:none]"))
        .unwrap_or_default()
}

/// `points` by date; `y_range` fixes the scale (none: from zero to the largest value, rounded
/// up to a whole step); `value` writes a value with its unit for the tooltips (the ticks are
/// bare numbers, the chart's title names the unit).
pub fn dated(
    label: &str,
    points: &[(Date, f64)],
    y_range: Option<(f64, f64)>,
    marks: &[(Date, String)],
    value: impl Fn(f64) -> String,
) -> DatedChart {
    let first = points.first().map_or(Date::MIN, |p| p.0);
    let last = points.last().map_or(first, |p| p.0);
    let span = ((last - first).whole_days() as f64).max(1.0);
    let (lo, hi) = y_range.unwrap_or_else(|| {
        let max = points.iter().map(|p| p.1).fold(0.0, f64::max);
        (0.0, nice_ceiling(max))
    });
    let sx = |d: Date| LEFT + (W - LEFT - PAD) * (d - first).whole_days() as f64 / span;
    let sy = |v: f64| H - PAD - (H - 2.0 * PAD) * ((v - lo) / (hi - lo)).clamp(0.0, 1.0);
    let y_ticks = (0..=4)
        .map(|k| {
            let v = lo + (hi - lo) * f64::from(k) / 4.0;
            Tick {
                at: px(sy(v)),
                label: grouped(v.round() as i64),
            }
        })
        .collect();
    let step = (span / 5.0).ceil().max(1.0) as i64;
    let x_ticks = (0..)
        .map(|k| first + time::Duration::days(k * step))
        .take_while(|d| *d <= last)
        .map(|d| Tick {
            at: px(sx(d)),
            label: short(d),
        })
        .collect();
    let dots: Vec<Dot> = points
        .iter()
        .map(|&(d, v)| Dot {
            x: px(sx(d)),
            y: px(sy(v)),
            tip: format!("{d}: {}", value(v)),
        })
        .collect();
    DatedChart {
        label: label.to_owned(),
        y_ticks,
        x_ticks,
        // The line runs through the dots: their coordinates, formatted once.
        points: polyline(dots.iter().map(|d| (d.x.as_str(), d.y.as_str()))),
        dots,
        marks: marks
            .iter()
            .map(|(d, text)| Mark {
                x: px(sx(*d)),
                text: text.clone(),
            })
            .collect(),
    }
}

/// The smallest of 1, 2 or 5 times a power of ten (times four ticks) at or above `max`, so
/// the five ticks fall on round numbers.
fn nice_ceiling(max: f64) -> f64 {
    if max <= 0.0 {
        return 4.0;
    }
    let quarter = max / 4.0;
    let power = 10f64.powf(quarter.log10().floor());
    let step = [1.0, 2.0, 5.0, 10.0]
        .into_iter()
        .map(|m| m * power)
        .find(|s| *s >= quarter)
        .unwrap_or(10.0 * power);
    step.max(1.0) * 4.0
}

#[cfg(test)]
mod tests {
    use askama::Template;
    use time::macros::date;

    use super::*;

    #[derive(Template)]
    #[template(source = r#"{% include "charts/dated.html" %}"#, ext = "html")]
    struct Svg<'a> {
        chart: &'a DatedChart,
    }

    #[test]
    fn axes_carry_dates_and_units_and_every_day_its_value() {
        let chart = dated(
            "Active <users>",
            &[
                (date!(2026 - 03 - 01), 3.0),
                (date!(2026 - 03 - 11), 7.0),
                (date!(2026 - 03 - 21), 5.0),
            ],
            None,
            &[(date!(2026 - 03 - 11), "weights v2".into())],
            |v| format!("{v:.0} users"),
        );
        // 7 rounds up to 8 (four steps of 2): ticks at 0, 2, 4, 6 and 8.
        let labels: Vec<&str> = chart.y_ticks.iter().map(|t| t.label.as_str()).collect();
        assert_eq!(labels, ["0", "2", "4", "6", "8"]);
        assert_eq!(chart.x_ticks[0].label, "Mar 1");
        assert_eq!(chart.x_ticks.last().unwrap().label, "Mar 21");
        assert_eq!(chart.dots[1].tip, "2026-03-11: 7 users");
        // The first day sits on the left edge of the plot, the last on the right.
        assert_eq!(chart.dots[0].x, "48.0");
        assert_eq!(chart.dots[2].x, "572.0");
        assert_eq!(chart.marks[0].x, "310.0", "halfway through the span");
        // 3, 7 and 5 on a 0–8 scale between y = 172 (zero) and y = 28 (eight).
        assert_eq!(chart.points, "48.0,118.0 310.0,46.0 572.0,82.0");
        let svg = Svg { chart: &chart }.render().unwrap();
        assert!(svg.contains("Active &#60;users&#62;"), "{svg}");
        assert!(svg.contains("<title>2026-03-11: 7 users</title>"));
    }

    #[test]
    fn scales_end_on_round_numbers() {
        assert_eq!(nice_ceiling(7.0), 8.0);
        assert_eq!(nice_ceiling(37.0), 40.0);
        assert_eq!(nice_ceiling(130.0), 200.0);
        assert_eq!(nice_ceiling(0.0), 4.0);
        assert_eq!(nice_ceiling(1.0), 4.0, "whole steps for counts");
    }
}

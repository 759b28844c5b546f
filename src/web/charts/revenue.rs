//! The executive's charts: MRR movements (gains up, losses down, by month), trend lines on
//! a percentage axis, and survival curves with their confidence bands. Each is laid out
//! here and drawn by its template in `templates/charts/`.

use super::{H, PAD, W, polyline, px};

/// One stacked segment of a movements bar.
pub struct Block {
    pub y: String,
    pub height: String,
    pub class: &'static str,
    pub title: String,
}

/// One month of movements.
pub struct MovementBar {
    pub x: String,
    pub width: String,
    pub label_x: String,
    pub label: String,
    pub blocks: Vec<Block>,
}

/// Gains above the zero line, losses below (`templates/charts/movements.html`).
pub struct MovementsChart {
    pub label: String,
    pub zero_y: String,
    pub top_label: String,
    pub bottom_label: String,
    pub bars: Vec<MovementBar>,
    pub legend: &'static [(&'static str, &'static str)],
}

/// The kinds of movement, their CSS class and legend name, gains first.
pub const KINDS: [(&str, &str); 5] = [
    ("new", "New"),
    ("expansion", "Expansion"),
    ("reactivation", "Reactivation"),
    ("contraction", "Contraction"),
    ("churn", "Churn"),
];

/// `months`: (label, [new, expansion, reactivation, contraction, churn]) in cents;
/// `money` formats an amount for the axis and tooltips.
pub fn movements(
    label: &str,
    months: &[(String, [i64; 5])],
    money: impl Fn(i64) -> String,
) -> MovementsChart {
    let up = |m: &[i64; 5]| m[0] + m[1] + m[2];
    let down = |m: &[i64; 5]| m[3] + m[4];
    let max_up = months.iter().map(|m| up(&m.1)).max().unwrap_or(0);
    let max_down = months.iter().map(|m| down(&m.1)).max().unwrap_or(0);
    let span = (max_up + max_down).max(1) as f64;
    let plot = H - 2.0 * PAD;
    let zero = PAD + plot * max_up as f64 / span;
    let slot = (W - 2.0 * PAD) / months.len().max(1) as f64;
    let bars = months
        .iter()
        .enumerate()
        .map(|(i, (name, m))| {
            let x = PAD + slot * i as f64;
            let mut blocks = Vec::new();
            let (mut above, mut below) = (zero, zero);
            for (k, (class, kind)) in KINDS.iter().enumerate() {
                let h = plot * m[k] as f64 / span;
                if m[k] == 0 {
                    continue;
                }
                let y = if k < 3 {
                    above -= h;
                    above
                } else {
                    below += h;
                    below - h
                };
                let sign = if k < 3 { "+" } else { "−" };
                blocks.push(Block {
                    y: px(y),
                    height: px(h),
                    class,
                    title: format!("{name}: {kind} {sign}{}", money(m[k])),
                });
            }
            MovementBar {
                x: px(x + 2.0),
                width: px(slot - 4.0),
                label_x: px(x + slot / 2.0),
                label: name.clone(),
                blocks,
            }
        })
        .collect();
    MovementsChart {
        label: label.to_owned(),
        zero_y: px(zero),
        top_label: format!("+{}", money(max_up)),
        bottom_label: format!("−{}", money(max_down)),
        bars,
        legend: &KINDS,
    }
}

/// A labelled tick on an axis.
pub struct Tick {
    pub at: String,
    pub label: String,
}

/// One trend line with its legend entry and a dot (with tooltip) per point.
pub struct TrendLine {
    pub name: String,
    pub class: &'static str,
    pub points: String,
    pub dots: Vec<(String, String, String)>,
    pub legend_x: String,
}

/// Lines over the same x labels on a percentage axis (`templates/charts/trend.html`).
pub struct TrendChart {
    pub label: String,
    pub y_ticks: Vec<Tick>,
    pub x_ticks: Vec<Tick>,
    pub lines: Vec<TrendLine>,
}

/// `x`: the labels; `series`: (name, CSS class, a share per label or none).
pub fn trend(
    label: &str,
    x: &[String],
    series: &[(&str, &'static str, Vec<Option<f64>>)],
) -> TrendChart {
    let values = series.iter().flat_map(|s| s.2.iter().flatten().copied());
    let (lo, hi) = values.fold((f64::MAX, f64::MIN), |(l, h), v| (l.min(v), h.max(v)));
    let (lo, hi) = if lo > hi {
        (0.0, 1.0)
    } else {
        // Whole percentage points around the data, at least five apart.
        let lo = ((lo * 100.0).floor() - 1.0) / 100.0;
        let hi = ((hi * 100.0).ceil() + 1.0) / 100.0;
        (lo, hi.max(lo + 0.05))
    };
    let sx =
        |i: usize| PAD + 20.0 + (W - 2.0 * PAD - 20.0) * i as f64 / (x.len().max(2) - 1) as f64;
    let sy = |v: f64| H - PAD - (H - 2.0 * PAD) * (v - lo) / (hi - lo);
    let y_ticks = (0..=4)
        .map(|k| {
            let v = lo + (hi - lo) * f64::from(k) / 4.0;
            Tick {
                at: px(sy(v)),
                label: format!("{:.0} %", v * 100.0),
            }
        })
        .collect();
    let every = x.len().div_ceil(6).max(1);
    let x_ticks = x
        .iter()
        .enumerate()
        .filter(|(i, _)| i % every == 0 || *i + 1 == x.len())
        .map(|(i, l)| Tick {
            at: px(sx(i)),
            label: l.clone(),
        })
        .collect();
    let lines = series
        .iter()
        .enumerate()
        .map(|(n, (name, class, values))| {
            let pts: Vec<(usize, f64)> = values
                .iter()
                .enumerate()
                .filter_map(|(i, v)| v.map(|v| (i, v)))
                .collect();
            let dots: Vec<(String, String, String)> = pts
                .iter()
                .map(|&(i, v)| {
                    (
                        px(sx(i)),
                        px(sy(v)),
                        format!("{}: {name} {:.1} %", x[i], v * 100.0),
                    )
                })
                .collect();
            TrendLine {
                name: (*name).to_owned(),
                class,
                // The line runs through the dots: their coordinates, formatted once.
                points: polyline(dots.iter().map(|d| (d.0.as_str(), d.1.as_str()))),
                dots,
                legend_x: px(PAD + 20.0 + 140.0 * n as f64),
            }
        })
        .collect();
    TrendChart {
        label: label.to_owned(),
        y_ticks,
        x_ticks,
        lines,
    }
}

/// One survival curve: its steps, its confidence band, and its legend entry.
pub struct Curve {
    pub name: String,
    pub class: &'static str,
    pub steps: String,
    pub band: String,
    pub legend_x: String,
}

/// Survival curves over days (`templates/charts/survival.html`).
pub struct SurvivalChart {
    pub label: String,
    pub y_ticks: Vec<Tick>,
    pub x_ticks: Vec<Tick>,
    pub curves: Vec<Curve>,
}

/// One curve to draw: its name, its CSS class, and its steps as (day, survival, lower,
/// upper).
pub type CurveData = (String, &'static str, Vec<(f64, f64, f64, f64)>);

/// Survival curves over `days`.
pub fn survival(label: &str, days: f64, curves: &[CurveData]) -> SurvivalChart {
    let days = days.max(1.0);
    let sx = |d: f64| PAD + 20.0 + (W - 2.0 * PAD - 20.0) * (d / days).clamp(0.0, 1.0);
    // The curves of a book of customers stay high: show 50–100 % unless they fall lower.
    let floor = curves
        .iter()
        .flat_map(|c| c.2.iter().map(|s| s.2))
        .fold(0.5_f64, f64::min)
        .max(0.0);
    let floor = (floor * 10.0).floor() / 10.0;
    let sy = |s: f64| H - PAD - (H - 2.0 * PAD) * ((s - floor) / (1.0 - floor)).clamp(0.0, 1.0);
    let y_ticks = (0..=4)
        .map(|k| {
            let v = floor + (1.0 - floor) * f64::from(k) / 4.0;
            Tick {
                at: px(sy(v)),
                label: format!("{:.0} %", v * 100.0),
            }
        })
        .collect();
    let x_ticks = (0..=4)
        .map(|k| {
            let d = days * f64::from(k) / 4.0;
            Tick {
                at: px(sx(d)),
                label: format!("{d:.0} d"),
            }
        })
        .collect();
    // Legend entries side by side, each as wide as its name (about 6 px a character).
    let mut legend = PAD + 20.0;
    let curves = curves
        .iter()
        .map(|(name, class, steps)| {
            let legend_x = legend;
            legend += name.chars().count() as f64 * 6.0 + 18.0;
            let mut line = vec![(0.0, 1.0)];
            let mut upper = vec![(0.0, 1.0)];
            let mut lower = vec![(0.0, 1.0)];
            let (mut s, mut lo, mut hi) = (1.0, 1.0, 1.0);
            for &(d, surv, l, u) in steps {
                line.extend([(d, s), (d, surv)]);
                upper.extend([(d, hi), (d, u)]);
                lower.extend([(d, lo), (d, l)]);
                (s, lo, hi) = (surv, l, u);
            }
            line.push((days, s));
            upper.push((days, hi));
            lower.push((days, lo));
            let fmt = |pts: &mut dyn Iterator<Item = &(f64, f64)>| {
                let coordinates: Vec<_> = pts.map(|(d, v)| (px(sx(*d)), px(sy(*v)))).collect();
                polyline(coordinates.iter().map(|(x, y)| (x.as_str(), y.as_str())))
            };
            let band = format!(
                "{} {}",
                fmt(&mut upper.iter()),
                fmt(&mut lower.iter().rev())
            );
            Curve {
                name: name.clone(),
                class,
                steps: fmt(&mut line.iter()),
                band,
                legend_x: px(legend_x),
            }
        })
        .collect();
    SurvivalChart {
        label: label.to_owned(),
        y_ticks,
        x_ticks,
        curves,
    }
}

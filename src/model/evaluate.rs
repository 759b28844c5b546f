//! `keel model evaluate`: both churn models trained and validated on any feature table (a
//! CSV), with the measures `keel train` reports, so analysts can compare Keel with their
//! notebooks on the same rows. Needs no database: nothing is read from Keel or written to it.

use std::collections::HashMap;
use std::fmt;
use std::io::Cursor;
use std::path::PathBuf;

use anyhow::{Context, ensure};
use polars::prelude::{CsvReadOptions, SerReader, StringChunked};
use time::macros::format_description;
use time::{Date, UtcOffset};

use super::metrics;
use super::train::{Algorithm, Dataset, Model, Validation, walk_forward};
use crate::ingest::cells::parse_timestamp;

/// A categorical column keeps its most frequent values as one-hot inputs and pools the rest
/// in `other`, so a high-cardinality column (free text, an id not passed as `--id`) cannot
/// swamp the regression with thousands of inputs.
const MAX_CATEGORIES: usize = 20;

/// Walk-forward folds start after this many time values, so no model is tested after
/// training on a single snapshot (unless there are only two time values).
const MIN_HISTORY: usize = 2;

/// Without a time column, every fifth churned and every fifth retained row (in file order)
/// is held out: 20 % of each class, the same rows on every run.
const HOLD_OUT_EVERY: usize = 5;

#[derive(Clone, Debug, clap::Args)]
pub struct Options {
    /// The feature table: a CSV file with a header row.
    #[arg(long)]
    pub csv: PathBuf,
    /// The outcome column: 1/0, true/false or yes/no (any case); true means churned.
    #[arg(long)]
    pub label: String,
    /// The column dating each row (YYYY-MM-DD, or an RFC 3339 timestamp whose UTC date is
    /// used). With it validation is walk-forward over the distinct dates; without it, a
    /// stratified 20 % hold-out.
    #[arg(long)]
    pub time: Option<String>,
    /// A column identifying the account; it is not a feature.
    #[arg(long)]
    pub id: Option<String>,
    /// Days after its date that a row's label is known. A fold tested on date T trains only
    /// on rows dated before T whose date + horizon ≤ T: for a "churned within 60 days"
    /// label pass 60, or the folds train on outcomes that had not happened yet by T. The
    /// default 0 suits labels already known at the row's own date.
    #[arg(long, default_value_t = 0, requires = "time")]
    pub horizon_days: u32,
}

/// How the models were validated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    WalkForward {
        times: usize,
        min_history: usize,
        horizon_days: u32,
    },
    HoldOut {
        train: usize,
        test: usize,
    },
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Mode::WalkForward {
                times,
                min_history,
                horizon_days,
            } => write!(
                f,
                "walk-forward over {times} time values (the first {min_history} only train; \
                 labels known {horizon_days} days after their date)"
            ),
            Mode::HoldOut { train, test } => write!(
                f,
                "stratified hold-out: train {train} rows, test {test} (every \
                 {HOLD_OUT_EVERY}th of each class)"
            ),
        }
    }
}

pub struct Evaluation {
    pub rows: usize,
    pub numeric: usize,
    pub categorical: usize,
    /// The model inputs: numeric columns by name, categories as `column=value`.
    pub features: Vec<String>,
    pub churn_rate: f64,
    pub mode: Mode,
    /// Per algorithm; hold-out validation has no folds.
    pub results: Vec<(Algorithm, Validation)>,
}

/// Reads the CSV, encodes its features and validates both algorithms on them.
pub fn evaluate(options: &Options) -> anyhow::Result<Evaluation> {
    let bytes = std::fs::read(&options.csv)
        .with_context(|| format!("reading {}", options.csv.display()))?;
    let columns = read_csv(bytes).with_context(|| format!("reading {}", options.csv.display()))?;
    let table = encode(&columns, options)?;
    let data = &table.data;
    let (mode, results) = match &options.time {
        Some(time) => {
            let times = distinct_dates(data);
            ensure!(
                times >= 2,
                "column '{time}' has {times} distinct time value(s); walk-forward validation \
                 needs at least 2 (leave out --time for a hold-out)"
            );
            let min_history = MIN_HISTORY.min(times - 1);
            let horizon = i64::from(options.horizon_days);
            let results = Algorithm::ALL
                .into_iter()
                .map(|algorithm| {
                    walk_forward(algorithm, data, min_history, horizon)
                        .with_context(|| {
                            format!(
                                "validating {} walk-forward over {times} time values with a \
                                 {horizon}-day horizon",
                                algorithm.as_str()
                            )
                        })
                        .map(|v| (algorithm, v))
                })
                .collect::<anyhow::Result<_>>()?;
            let mode = Mode::WalkForward {
                times,
                min_history,
                horizon_days: options.horizon_days,
            };
            (mode, results)
        }
        None => hold_out(data)?,
    };
    Ok(Evaluation {
        rows: data.y.len(),
        numeric: table.numeric,
        categorical: table.categorical,
        features: table.features,
        churn_rate: data.churn_rate(),
        mode,
        results,
    })
}

fn distinct_dates(data: &Dataset) -> usize {
    let mut dates = data.dates.clone();
    dates.sort_unstable();
    dates.dedup();
    dates.len()
}

/// Fits on 80 % of each class and reports on the rest against the training churn rate. All
/// rows share one date, so `Model::fit` calibrates on its own training rows (it does with
/// fewer than three dates): the trees, which fit those closely, may come out over-confident,
/// which the test part's ECE then shows.
fn hold_out(data: &Dataset) -> anyhow::Result<(Mode, Vec<(Algorithm, Validation)>)> {
    let positives = data.y.iter().filter(|y| **y).count();
    let negatives = data.y.len() - positives;
    ensure!(
        positives >= HOLD_OUT_EVERY && negatives >= HOLD_OUT_EVERY,
        "a hold-out needs at least {HOLD_OUT_EVERY} churned and {HOLD_OUT_EVERY} retained rows \
         (found {positives} and {negatives})"
    );
    let mut seen = [0usize; 2];
    let test: Vec<bool> = data
        .y
        .iter()
        .map(|&y| {
            let n = &mut seen[usize::from(y)];
            *n += 1;
            *n % HOLD_OUT_EVERY == 0
        })
        .collect();
    let train_part = data.subset(|i| !test[i]);
    let test_part = data.subset(|i| test[i]);
    let results = Algorithm::ALL
        .into_iter()
        .map(|algorithm| {
            let model = Model::fit(algorithm, &train_part)?;
            let p = model.predict(&test_part.x);
            let overall = metrics::report(&p, &test_part.y, train_part.churn_rate());
            Ok((
                algorithm,
                Validation {
                    folds: Vec::new(),
                    overall,
                },
            ))
        })
        .collect::<anyhow::Result<_>>()?;
    let mode = Mode::HoldOut {
        train: train_part.y.len(),
        test: test_part.y.len(),
    };
    Ok((mode, results))
}

/// The columns as text, in file order: each column's type is decided on all of its values
/// here, not by polars's inference from the first rows.
fn read_csv(bytes: Vec<u8>) -> anyhow::Result<Vec<(String, StringChunked)>> {
    let df = CsvReadOptions::default()
        .with_has_header(true)
        .with_infer_schema_length(Some(0))
        .into_reader_with_file_handle(Cursor::new(bytes))
        .finish()
        .context("not a readable CSV file")?;
    df.columns()
        .iter()
        .map(|c| {
            Ok((
                c.name().to_string(),
                c.as_materialized_series().str()?.clone(),
            ))
        })
        .collect()
}

/// Trimmed cells; polars reads an empty cell as null, here "".
fn cells(column: &StringChunked) -> impl Iterator<Item = &str> {
    column.iter().map(|c| c.unwrap_or_default().trim())
}

/// The error for one cell; rows are counted from 1 after the header, as in a spreadsheet
/// with its header frozen.
fn bad_cell(index: usize, column: &str, raw: &str, expected: &str) -> anyhow::Error {
    anyhow::anyhow!(
        "row {}, column '{column}': '{raw}' is not {expected}",
        index + 1
    )
}

fn parse_label(raw: &str) -> Option<bool> {
    match raw.to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" => Some(true),
        "0" | "false" | "no" => Some(false),
        _ => None,
    }
}

fn parse_time(raw: &str) -> Option<Date> {
    Date::parse(raw, format_description!("[year]-[month]-[day]"))
        .ok()
        .or_else(|| parse_timestamp(raw).map(|t| t.to_offset(UtcOffset::UTC).date()))
}

/// The column's values if every non-empty cell is a number; empty cells are missing (NaN),
/// which both models handle. Infinities would break the regression, so they make the
/// column categorical.
fn numbers(column: &StringChunked) -> Option<Vec<f64>> {
    cells(column)
        .map(|raw| {
            if raw.is_empty() {
                Some(f64::NAN)
            } else {
                raw.parse::<f64>().ok().filter(|v| !v.is_infinite())
            }
        })
        .collect()
}

/// The one-hot encoding of a categorical column. An empty cell sets no input: missing is
/// the reference level.
struct Categories {
    /// The most frequent values, most frequent first (ties in alphabetical order).
    kept: Vec<String>,
    /// Whether rarer values exist, pooled in one `other` input.
    other: bool,
}

impl Categories {
    fn of(column: &StringChunked) -> Categories {
        let mut counts: HashMap<&str, usize> = HashMap::new();
        for raw in cells(column).filter(|c| !c.is_empty()) {
            *counts.entry(raw).or_default() += 1;
        }
        let mut ranked: Vec<(&str, usize)> = counts.into_iter().collect();
        ranked.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        Categories {
            other: ranked.len() > MAX_CATEGORIES,
            kept: ranked
                .into_iter()
                .take(MAX_CATEGORIES)
                .map(|(value, _)| value.to_owned())
                .collect(),
        }
    }

    fn names<'a>(&'a self, column: &'a str) -> impl Iterator<Item = String> + 'a {
        self.kept
            .iter()
            .map(move |v| format!("{column}={v}"))
            .chain(self.other.then(|| format!("{column}=other")))
    }

    fn encode(&self, raw: &str) -> impl Iterator<Item = f64> {
        let hit = self.kept.iter().position(|v| v == raw);
        let other = !raw.is_empty() && hit.is_none();
        (0..self.kept.len())
            .map(move |i| f64::from(u8::from(hit == Some(i))))
            .chain(self.other.then_some(f64::from(u8::from(other))))
    }
}

/// The table as model input.
struct Encoded {
    data: Dataset,
    features: Vec<String>,
    numeric: usize,
    categorical: usize,
}

fn encode(columns: &[(String, StringChunked)], options: &Options) -> anyhow::Result<Encoded> {
    let find = |name: &str| {
        columns
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, c)| c)
            .with_context(|| {
                let names: Vec<&str> = columns.iter().map(|(n, _)| n.as_str()).collect();
                format!("no column '{name}'; the columns are: {}", names.join(", "))
            })
    };
    let y = cells(find(&options.label)?)
        .enumerate()
        .map(|(i, raw)| {
            parse_label(raw)
                .ok_or_else(|| bad_cell(i, &options.label, raw, "1/0, true/false or yes/no"))
        })
        .collect::<anyhow::Result<Vec<bool>>>()?;
    ensure!(!y.is_empty(), "the file has no data rows");
    ensure!(
        y.iter().any(|y| *y) && y.iter().any(|y| !*y),
        "column '{}' has only {} rows: the models need churned and retained examples",
        options.label,
        if y[0] { "churned" } else { "retained" }
    );
    let dates = match &options.time {
        Some(name) => cells(find(name)?)
            .enumerate()
            .map(|(i, raw)| {
                parse_time(raw).ok_or_else(|| {
                    bad_cell(i, name, raw, "a date (YYYY-MM-DD or an RFC 3339 timestamp)")
                })
            })
            .collect::<anyhow::Result<Vec<Date>>>()?,
        None => vec![Date::MIN; y.len()],
    };
    // A misspelt id column would otherwise become a feature unnoticed.
    if let Some(id) = &options.id {
        find(id)?;
    }
    let excluded = [
        Some(&options.label),
        options.time.as_ref(),
        options.id.as_ref(),
    ];
    let mut x = vec![Vec::new(); y.len()];
    let (mut features, mut numeric, mut categorical) = (Vec::new(), 0, 0);
    for (name, column) in columns.iter().filter(|(n, _)| !excluded.contains(&Some(n))) {
        if let Some(values) = numbers(column) {
            numeric += 1;
            features.push(name.clone());
            for (row, v) in x.iter_mut().zip(values) {
                row.push(v);
            }
        } else {
            categorical += 1;
            let categories = Categories::of(column);
            features.extend(categories.names(name));
            for (row, raw) in x.iter_mut().zip(cells(column)) {
                row.extend(categories.encode(raw));
            }
        }
    }
    ensure!(
        !features.is_empty(),
        "no feature columns: every column is the label, time or id"
    );
    Ok(Encoded {
        data: Dataset { x, y, dates },
        features,
        numeric,
        categorical,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::date;

    fn options(label: &str, time: Option<&str>, id: Option<&str>) -> Options {
        Options {
            csv: PathBuf::new(),
            label: label.into(),
            time: time.map(Into::into),
            id: id.map(Into::into),
            horizon_days: 0,
        }
    }

    fn encode_text(csv: &str, options: &Options) -> anyhow::Result<Encoded> {
        encode(&read_csv(csv.as_bytes().to_vec())?, options)
    }

    #[test]
    fn labels_take_numbers_booleans_and_yes_no_in_any_case() {
        for raw in ["1", "true", "TRUE", "Yes", "yes"] {
            assert_eq!(parse_label(raw), Some(true), "{raw}");
        }
        for raw in ["0", "false", "False", "NO", "no"] {
            assert_eq!(parse_label(raw), Some(false), "{raw}");
        }
        for raw in ["", "2", "y", "churned", "1.0"] {
            assert_eq!(parse_label(raw), None, "{raw}");
        }
    }

    #[test]
    fn times_take_dates_and_timestamps() {
        assert_eq!(parse_time("2025-03-01"), Some(date!(2025 - 03 - 01)));
        assert_eq!(
            parse_time("2025-03-01T23:30:00-02:00"),
            Some(date!(2025 - 03 - 02)),
            "the UTC date"
        );
        assert_eq!(parse_time("01/03/2025"), None);
    }

    #[test]
    fn numeric_columns_have_only_numbers_or_blanks_and_the_rest_is_one_hot() {
        let csv = "id,usage,plan,churned\n\
                   a,1.5,pro,1\n\
                   b,,basic,0\n\
                   c,-2e3,pro,no\n\
                   d,4,,yes\n";
        let e = encode_text(csv, &options("churned", None, Some("id"))).unwrap();
        assert_eq!((e.numeric, e.categorical), (1, 1));
        assert_eq!(e.features, ["usage", "plan=pro", "plan=basic"]);
        assert_eq!(e.data.y, [true, false, false, true]);
        assert_eq!(e.data.x[0], [1.5, 1.0, 0.0]);
        assert!(e.data.x[1][0].is_nan(), "a blank number is missing");
        assert_eq!(e.data.x[2], [-2000.0, 1.0, 0.0]);
        assert_eq!(
            e.data.x[3][1..],
            [0.0, 0.0],
            "a blank category sets nothing"
        );
        // Without --id the id column is a feature like any other.
        let e = encode_text(csv, &options("churned", None, None)).unwrap();
        assert_eq!(e.categorical, 2);
        assert_eq!(e.features.len(), 3 + 4 - 1 + 1);
    }

    #[test]
    fn one_hot_keeps_the_most_frequent_categories_and_pools_the_rest() {
        // Category k appears k + 1 times, so 0..=4 are the five rarest of 25.
        let mut csv = String::from("city,churned\n");
        for k in 0..25 {
            for _ in 0..=k {
                csv.push_str(&format!("c{k},{}\n", k % 2));
            }
        }
        let e = encode_text(&csv, &options("churned", None, None)).unwrap();
        assert_eq!(e.features.len(), MAX_CATEGORIES + 1);
        assert_eq!(e.features[0], "city=c24");
        assert_eq!(e.features[MAX_CATEGORIES], "city=other");
        assert!(!e.features.contains(&"city=c4".to_owned()));
        assert_eq!(e.data.x[0][MAX_CATEGORIES], 1.0, "c0 is pooled");
        assert_eq!(e.data.x[0].iter().sum::<f64>(), 1.0);
        assert_eq!(e.data.x.last().unwrap()[0], 1.0, "the last row is c24");
    }

    #[test]
    fn bad_cells_and_columns_are_named() {
        let err = |csv: &str, o: &Options| encode_text(csv, o).err().unwrap().to_string();
        let o = options("churned", Some("month"), None);
        assert_eq!(
            err("month,x,churned\n2025-01-01,1,1\n2025-01-01,2,maybe\n", &o),
            "row 2, column 'churned': 'maybe' is not 1/0, true/false or yes/no"
        );
        assert_eq!(
            err("month,x,churned\n2025-01-01,1,1\n2025-13-01,2,0\n", &o),
            "row 2, column 'month': '2025-13-01' is not a date (YYYY-MM-DD or an RFC 3339 \
             timestamp)"
        );
        assert_eq!(
            err("month,x,churn\n2025-01-01,1,1\n", &o),
            "no column 'churned'; the columns are: month, x, churn"
        );
        assert_eq!(
            err("month,x,churned\n2025-01-01,1,0\n2025-02-01,2,no\n", &o),
            "column 'churned' has only retained rows: the models need churned and retained \
             examples"
        );
        let o = options("churned", None, Some("account"));
        assert!(err("x,churned\n1,1\n2,0\n", &o).starts_with("no column 'account'"));
        assert_eq!(
            err("churned\n1\n0\n", &options("churned", None, None)),
            "no feature columns: every column is the label, time or id"
        );
    }

    /// A churn process over six monthly snapshots: usage lowers risk, tickets raise it, the
    /// plan matters (basic churns most), a noise column does not; some usage is missing.
    fn synthetic_csv() -> String {
        let mut rand = crate::model::uniform(7);
        let mut csv = String::from("account,month,usage,tickets,plan,noise,churned\n");
        for month in 1..=6 {
            for account in 0..250 {
                let (usage, tickets, noise) = (rand(), rand(), rand());
                let (plan, effect) = match rand() {
                    r if r < 0.4 => ("basic", 1.5),
                    r if r < 0.8 => ("pro", 0.0),
                    _ => ("enterprise", -1.5),
                };
                let z = -1.0 - 2.5 * usage + 1.5 * tickets + effect;
                let churned = rand() < 1.0 / (1.0 + (-z).exp());
                let usage = if rand() < 0.1 {
                    String::new()
                } else {
                    format!("{usage:.3}")
                };
                // Both date shapes, and labels as yes/no and 1/0.
                let when = if account % 2 == 0 {
                    format!("2025-{month:02}-01")
                } else {
                    format!("2025-{month:02}-01T09:00:00Z")
                };
                let label = match (churned, account % 3 == 0) {
                    (true, true) => "yes",
                    (false, true) => "no",
                    (true, false) => "1",
                    (false, false) => "0",
                };
                csv.push_str(&format!(
                    "a{account},{when},{usage},{tickets:.3},{plan},{noise:.3},{label}\n"
                ));
            }
        }
        csv
    }

    #[test]
    fn both_models_learn_from_a_csv_walk_forward_and_on_a_hold_out() {
        let path = std::env::temp_dir().join(format!(
            "keel-evaluate-{}-{:?}.csv",
            std::process::id(),
            std::thread::current().id()
        ));
        std::fs::write(&path, synthetic_csv()).unwrap();
        let mut options = options("churned", Some("month"), Some("account"));
        options.csv = path.clone();
        let walk = evaluate(&options);
        options.time = None;
        let hold = evaluate(&options);
        std::fs::remove_file(&path).unwrap();

        let walk = walk.unwrap();
        assert_eq!((walk.rows, walk.numeric, walk.categorical), (1500, 3, 1));
        assert_eq!(
            walk.mode,
            Mode::WalkForward {
                times: 6,
                min_history: 2,
                horizon_days: 0
            }
        );
        let hold = hold.unwrap();
        assert!(
            matches!(hold.mode, Mode::HoldOut { train, test } if train + test == 1500 && test >= 298),
            "{}",
            hold.mode
        );
        assert!(walk.features.contains(&"plan=basic".to_owned()));
        for (e, folds) in [(&walk, 4), (&hold, 0)] {
            assert_eq!(e.results.len(), 2);
            for (algorithm, v) in &e.results {
                let auc = v.overall.auc_roc.unwrap();
                assert!(auc > 0.6, "{} {}: AUC {auc}", e.mode, algorithm.as_str());
                assert_eq!(v.folds.len(), folds);
            }
        }
    }
}

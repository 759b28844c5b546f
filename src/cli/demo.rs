//! `keel demo`: load the demo company (from its seeds), train, back-fill a quarter of daily
//! runs and the CSMs' and sales' work, print the logins, then serve.

use std::io::Write;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

use super::report::{print_run, print_training};
use super::{parse_date, ready_database, serve, today};
use crate::auth::audit::Actor;
use crate::config::Config;

#[derive(clap::Args)]
pub(super) struct DemoArgs {
    /// Paying accounts to simulate (about 7 % more are added in trial).
    #[arg(long, default_value_t = 4_200)]
    pub(super) accounts: usize,
    /// Seed of the simulation; the same seed and date give the same company.
    #[arg(long, default_value_t = 7)]
    pub(super) seed: u64,
    /// Last day of the simulated history (default: yesterday, UTC, the last whole day, so
    /// no event lies in the future and the same seed gives the same company all day).
    #[arg(long)]
    pub(super) as_of: Option<String>,
    /// Load the data and exit instead of serving.
    #[arg(long)]
    pub(super) no_serve: bool,
    /// A folder with your own demo_company.toml and/or demo_event_mapping.txt (default:
    /// the built-in copies of `seeds/`).
    #[arg(long)]
    pub(super) seeds: Option<std::path::PathBuf>,
}

pub(super) async fn run(config: Config, demo: DemoArgs) -> anyhow::Result<()> {
    let pool = ready_database(&config).await?;
    let as_of = match &demo.as_of {
        Some(d) => parse_date(d, "--as-of")?,
        None => today() - time::Duration::days(1),
    };
    let seeds = crate::demo::Seeds::load(demo.seeds.as_deref())?;
    let staff = crate::demo::seed_staff(&pool, demo.accounts, &seeds.company).await?;
    let mut out = std::io::stdout().lock();
    if crate::demo::has_data(&pool).await? {
        crate::demo::restore_usage_keys(&pool).await?;
        writeln!(out, "Demo data already loaded; keeping it.")?;
    } else {
        drop(out);
        let bar = stage("Loading", "batches")?;
        let loaded = crate::demo::load(
            &pool,
            demo.seed,
            demo.accounts,
            as_of,
            &staff,
            &seeds,
            &|done, total| advance(&bar, done, total),
        )
        .await?;
        // The months of each person's active days, which every run reads, are built from
        // the loaded year on the second core while the vacuum takes the first.
        tokio::try_join!(crate::db::vacuum_analyze(&pool), async {
            Ok(crate::features::months::catch_up(&pool).await?)
        })?;
        bar.finish_and_clear();
        writeln!(
            std::io::stdout(),
            "Loaded {} accounts and {} events in {:.1} s.",
            loaded.accounts,
            loaded.events,
            loaded.seconds
        )?;
        let spinner = busy("Training the churn model")?;
        // The bands calibrate on the fixed features of recent snapshots, not on the model:
        // they take the second core while training's first catalogue count runs on one.
        let (trained, bands) = tokio::try_join!(
            crate::model::training::train(&pool, as_of, &Actor::Cli),
            crate::health::config::calibrate_bands(&pool, as_of, &Actor::Cli),
        )?;
        spinner.finish_and_clear();
        print_training(&trained)?;
        if let Some(b) = bands {
            writeln!(
                std::io::stdout(),
                "Calibrated the health bands on history: red up to {}, yellow up to {}.",
                b.red_max,
                b.yellow_max
            )?;
        }
        let planted = crate::demo::experiments::load(&pool, as_of, &loaded.trial).await?;
        writeln!(
            std::io::stdout(),
            "Planted a finished outreach experiment a year back ({planted} high-risk accounts), one running on medium-risk accounts, and a 10 % holdout on the at-risk SMB playbook."
        )?;
        let bar = stage("Scoring", "weekly runs")?;
        // A year of hand-offs to sales reads no churn score: it is simulated beside the runs.
        let handoffs = crate::demo::handoffs::load(
            &pool,
            as_of,
            demo.accounts,
            time::OffsetDateTime::now_utc(),
        );
        let (outcome, (past, open)) = crate::demo::score_history(
            &pool,
            as_of,
            12,
            &|done, total| advance(&bar, done, total),
            handoffs,
        )
        .await?;
        bar.finish_and_clear();
        print_run(&outcome)?;
        let spinner = busy("Simulating the team's work")?;
        let escalated = crate::demo::simulate_work(&pool).await?;
        crate::db::analyze(&pool).await?;
        spinner.finish_and_clear();
        writeln!(
            std::io::stdout(),
            "Simulated the CSMs' work on the past weeks' plays; {} escalated (see Outbox).",
            crate::web::format::count(escalated as i64, "late task", "late tasks")
        )?;
        writeln!(
            std::io::stdout(),
            "Simulated a year of hand-offs to sales: {past} worked to a decision or under way, {open} open now."
        )?;
        out = std::io::stdout().lock();
    }
    writeln!(out, "\nKeel demo at http://{}", config.bind)?;
    writeln!(
        out,
        "Logins (password for all: {}):",
        crate::demo::DEMO_PASSWORD
    )?;
    for (role, email) in &staff.logins {
        writeln!(out, "  {:<10} {email}", role.as_str())?;
    }
    drop(out);
    if demo.no_serve {
        return Ok(());
    }
    serve(pool, config).await
}

/// A progress bar for a stage counted in `unit`, drawn on the terminal only (none when
/// stderr is a file or pipe).
fn stage(name: &str, unit: &str) -> anyhow::Result<ProgressBar> {
    let bar = ProgressBar::new(1).with_style(
        ProgressStyle::with_template(&format!(
            "{{prefix:<9}} [{{bar:32}}] {{pos}}/{{len}} {unit} · {{elapsed}}"
        ))?
        .progress_chars("=> "),
    );
    bar.set_prefix(name.to_owned());
    Ok(bar)
}

fn advance(bar: &ProgressBar, done: u64, total: u64) {
    bar.set_length(total);
    bar.set_position(done);
}

/// A spinner for a stage that cannot count its steps.
fn busy(what: &str) -> anyhow::Result<ProgressBar> {
    let spinner = ProgressBar::new_spinner()
        .with_style(ProgressStyle::with_template("{spinner} {msg}… {elapsed}")?);
    spinner.set_message(what.to_owned());
    spinner.enable_steady_tick(Duration::from_millis(120));
    Ok(spinner)
}

//! The `keel` command line: serve, migrate, demo, training, and user management from the
//! shell.

use std::io::{BufRead, Write};

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use sqlx::PgPool;

mod import;
mod report;

use crate::app::App;
use crate::auth::audit::Actor;
use crate::auth::users::{self, UserError, UserInput};
use crate::auth::{Role, db as users_db};
use crate::config::Config;
use crate::model::evaluate;
use report::{print_evaluation, print_run, print_training};

#[derive(Parser)]
#[command(name = "keel", version, about = "Keel customer-success platform")]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the web server.
    Serve {
        #[command(flatten)]
        config: Config,
        /// Also run the background worker (the daily pipeline) in this process.
        #[arg(long)]
        worker: bool,
    },
    /// Run the background worker: the daily pipeline at `KEEL_PIPELINE_AT`.
    Worker(Config),
    /// Apply database migrations and exit.
    Migrate(Config),
    /// Load the demo company (staff, accounts, a year of history), then serve.
    Demo {
        #[command(flatten)]
        config: Config,
        #[command(flatten)]
        demo: DemoArgs,
    },
    /// Manage users.
    #[command(subcommand)]
    User(UserCommand),
    /// Train both churn models on snapshots, validate them walk-forward, and register them.
    Train(Config),
    /// Churn models outside the database.
    #[command(subcommand)]
    Model(ModelCommand),
    /// The daily pipeline.
    #[command(subcommand)]
    Pipeline(PipelineCommand),
    /// Import a large CSV file in chunks; re-run it to complete an interrupted import.
    Import(import::Args),
}

#[derive(Subcommand)]
enum ModelCommand {
    /// Validate both churn models on your own feature table (a CSV) and print the measures
    /// `keel train` reports; needs no database.
    Evaluate(evaluate::Options),
    /// Write the labelled snapshots `keel train` learns from to a CSV file, to evaluate
    /// or study them elsewhere on exactly the same rows.
    Snapshots {
        /// The file to write.
        #[arg(long)]
        out: std::path::PathBuf,
        #[command(flatten)]
        config: Config,
    },
}

#[derive(Subcommand)]
enum PipelineCommand {
    /// Run the pipeline now: features → quality gate → scores → at-risk flags.
    Run {
        /// The day to score (default: today, UTC).
        #[arg(long)]
        day: Option<String>,
        /// Hours after which the newest event counts as stale (critical).
        #[arg(long, default_value_t = 2)]
        max_event_age_hours: i64,
        #[command(flatten)]
        config: Config,
    },
}

#[derive(clap::Args)]
struct DemoArgs {
    /// Paying accounts to simulate (about 7 % more are added in trial).
    #[arg(long, default_value_t = 4_200)]
    accounts: usize,
    /// Seed of the simulation; the same seed and date give the same company.
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// Last day of the simulated history (default: yesterday, UTC, the last whole day, so
    /// no event lies in the future and the same seed gives the same company all day).
    #[arg(long)]
    as_of: Option<String>,
    /// Load the data and exit instead of serving.
    #[arg(long)]
    no_serve: bool,
    /// A folder with your own demo_company.toml and/or demo_event_mapping.txt (default:
    /// the built-in copies of `seeds/`).
    #[arg(long)]
    seeds: Option<std::path::PathBuf>,
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create a user. The password is prompted for, or read from standard input.
    Add {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// admin, manager, csm, sales, executive or analyst
        #[arg(long)]
        role: Role,
        /// Email of the CS manager a CSM reports to.
        #[arg(long)]
        manager: Option<String>,
        /// Read the password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
        #[command(flatten)]
        config: Config,
    },
}

impl Cli {
    /// The demo is a newcomer's first minute: its output is the progress and the logins,
    /// so its default log level keeps to warnings from Keel (`KEEL_LOG` still decides).
    pub fn default_log_filter(&self) -> &'static str {
        match self.command {
            Command::Demo { .. } | Command::Import(_) => "warn,sqlx=error,tower_sessions=error",
            _ => "info,sqlx=warn,tower_sessions=warn",
        }
    }
}

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve { config, worker } => {
            let pool = ready_database(&config).await?;
            if worker {
                tokio::spawn(crate::jobs::run_forever(
                    pool.clone(),
                    config.pipeline_at,
                    time::Duration::days(config.user_retention_days),
                    mailer(&config)?,
                    crate::app::shutdown_signal(),
                ));
            }
            serve(pool, config).await
        }
        Command::Worker(config) => {
            let pool = ready_database(&config).await?;
            crate::jobs::run_forever(
                pool,
                config.pipeline_at,
                time::Duration::days(config.user_retention_days),
                mailer(&config)?,
                crate::app::shutdown_signal(),
            )
            .await;
            Ok(())
        }
        Command::Import(args) => import::run(args).await,
        Command::Migrate(config) => {
            ready_database(&config).await?;
            tracing::info!("migrations applied");
            Ok(())
        }
        Command::Demo { config, demo } => {
            let pool = ready_database(&config).await?;
            let as_of = match &demo.as_of {
                Some(d) => parse_date(d, "--as-of")?,
                None => today() - time::Duration::days(1),
            };
            let seeds = crate::demo::Seeds::load(demo.seeds.as_deref())?;
            let staff = crate::demo::seed_staff(&pool, demo.accounts, &seeds.company).await?;
            let mut out = std::io::stdout().lock();
            if crate::demo::has_data(&pool).await? {
                writeln!(out, "Demo data already loaded; keeping it.")?;
            } else {
                drop(out);
                let loaded =
                    crate::demo::load(&pool, demo.seed, demo.accounts, as_of, &staff, &seeds)
                        .await?;
                writeln!(
                    std::io::stdout(),
                    "Loaded {} accounts and {} events in {:.1} s.",
                    loaded.accounts,
                    loaded.events,
                    loaded.seconds
                )?;
                let trained = crate::model::training::train(&pool, as_of, &Actor::Cli).await?;
                print_training(&trained)?;
                if let Some(b) =
                    crate::health::config::calibrate_bands(&pool, as_of, &Actor::Cli).await?
                {
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
                let outcome = crate::demo::score_history(&pool, as_of, 12).await?;
                print_run(&outcome)?;
                let escalated = crate::demo::simulate_work(&pool).await?;
                writeln!(
                    std::io::stdout(),
                    "Simulated the CSMs' work on the past weeks' plays; {escalated} late tasks escalated (see Outbox)."
                )?;
                let (past, open) = crate::demo::handoffs::load(
                    &pool,
                    as_of,
                    demo.accounts,
                    time::OffsetDateTime::now_utc(),
                )
                .await?;
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
        Command::Train(config) => {
            let pool = ready_database(&config).await?;
            let trained = crate::model::training::train(&pool, today(), &Actor::Cli).await?;
            print_training(&trained)
        }
        Command::Model(ModelCommand::Evaluate(options)) => {
            print_evaluation(&evaluate::evaluate(&options)?)
        }
        Command::Model(ModelCommand::Snapshots { out, config }) => {
            let pool = ready_database(&config).await?;
            let file = std::fs::File::create(&out)
                .with_context(|| format!("cannot create {}", out.display()))?;
            let rows = crate::model::training::export_snapshots(
                &pool,
                today(),
                std::io::BufWriter::new(file),
            )
            .await?;
            writeln!(
                std::io::stdout(),
                "wrote {rows} snapshot rows to {}; evaluate them with: keel model evaluate --csv {} --label churned_within_60d --time as_of --id account_id --horizon-days {}",
                out.display(),
                out.display(),
                crate::model::training::HORIZON_DAYS
            )?;
            Ok(())
        }
        Command::Pipeline(PipelineCommand::Run {
            day,
            max_event_age_hours,
            config,
        }) => {
            let pool = ready_database(&config).await?;
            let day = match day {
                Some(d) => parse_date(&d, "--day")?,
                None => today(),
            };
            let options = crate::pipeline::Options {
                max_event_age: time::Duration::hours(max_event_age_hours),
            };
            let outcome = crate::pipeline::run(&pool, day, "cli", &Actor::Cli, &options).await?;
            print_run(&outcome)?;
            if !outcome.succeeded {
                bail!(
                    "pipeline run {} failed; the previous scores are kept",
                    outcome.run_id
                );
            }
            Ok(())
        }
        Command::User(UserCommand::Add {
            email,
            name,
            role,
            manager,
            password_stdin,
            config,
        }) => {
            let pool = ready_database(&config).await?;
            let manager_id = match manager {
                Some(m) => Some(
                    users_db::find_credentials(&pool, &m.trim().to_lowercase())
                        .await?
                        .with_context(|| format!("no user with email {m}"))?
                        .id,
                ),
                None => None,
            };
            let password = read_password(password_stdin)?;
            let input = UserInput {
                email,
                name,
                role: role.as_str().to_owned(),
                manager_id,
                password,
            };
            match users::create(&pool, &Actor::Cli, &input).await {
                Ok(id) => {
                    writeln!(std::io::stdout(), "created user {id} ({})", input.email)?;
                    Ok(())
                }
                Err(UserError::Invalid(errors)) => {
                    let msgs: Vec<String> =
                        errors.0.iter().map(|(f, m)| format!("{f}: {m}")).collect();
                    bail!("user not created: {}", msgs.join("; "))
                }
                Err(UserError::App(e)) => Err(anyhow::anyhow!(e)),
            }
        }
    }
}

fn today() -> time::Date {
    time::OffsetDateTime::now_utc().date()
}

fn mailer(config: &Config) -> anyhow::Result<Option<crate::mail::Mailer>> {
    config
        .smtp
        .as_deref()
        .map(|server| {
            let ca = config
                .smtp_ca
                .as_ref()
                .map(std::fs::read)
                .transpose()
                .map_err(|e| anyhow::anyhow!("KEEL_SMTP_CA: {e}"))?;
            crate::mail::Mailer::with_ca(server, &config.mail_from, ca.as_deref())
        })
        .transpose()
}

fn parse_date(raw: &str, flag: &str) -> anyhow::Result<time::Date> {
    time::Date::parse(
        raw,
        time::macros::format_description!("[year]-[month]-[day]"),
    )
    .with_context(|| format!("{flag} {raw}: expected YYYY-MM-DD"))
}

async fn ready_database(config: &Config) -> anyhow::Result<PgPool> {
    let pool = crate::db::connect(config).await?;
    crate::db::migrate(&pool).await?;
    Ok(pool)
}

async fn serve(pool: PgPool, config: Config) -> anyhow::Result<()> {
    let store = tower_sessions_sqlx_store::PostgresStore::new(pool.clone());
    tokio::spawn(
        tower_sessions::session_store::ExpiredDeletion::continuously_delete_expired(
            store,
            tokio::time::Duration::from_secs(600),
        ),
    );
    let app = App::build(pool, config).await?;
    tracing::info!(addr = %app.addr()?, "listening");
    app.serve().await
}

fn read_password(from_stdin: bool) -> anyhow::Result<String> {
    let password = if from_stdin {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        line.trim_end_matches(['\r', '\n']).to_owned()
    } else {
        rpassword::prompt_password("Password: ")
            .context("no terminal to prompt on; pass --password-stdin")?
    };
    Ok(password)
}

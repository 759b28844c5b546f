//! The `keel` command line: serve, migrate, demo, training, and user management from the
//! shell.

use std::io::{BufRead, Write};

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use sqlx::PgPool;

mod demo;
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
        demo: demo::DemoArgs,
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
        Command::Demo { config, demo } => demo::run(config, demo).await,
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
                ..Default::default()
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

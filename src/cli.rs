//! The `keel` command line: serve, migrate, demo, and user management from the shell.

use std::io::{BufRead, Write};

use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use sqlx::PgPool;

use crate::app::App;
use crate::auth::audit::Actor;
use crate::auth::users::{self, UserError, UserInput};
use crate::auth::{Role, db as users_db};
use crate::config::Config;

#[derive(Parser)]
#[command(name = "keel", version, about = "Keel customer-success platform")]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the web server.
    Serve(Config),
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
}

#[derive(clap::Args)]
struct DemoArgs {
    /// Paying accounts to simulate (about 7 % more are added in trial).
    #[arg(long, default_value_t = 4_200)]
    accounts: usize,
    /// Seed of the simulation; the same seed and date give the same company.
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// Last day of the simulated history (default: today, UTC).
    #[arg(long)]
    as_of: Option<String>,
    /// Load the data and exit instead of serving.
    #[arg(long)]
    no_serve: bool,
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

pub async fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Serve(config) => {
            let pool = ready_database(&config).await?;
            serve(pool, config).await
        }
        Command::Migrate(config) => {
            ready_database(&config).await?;
            tracing::info!("migrations applied");
            Ok(())
        }
        Command::Demo { config, demo } => {
            let pool = ready_database(&config).await?;
            let as_of = match &demo.as_of {
                Some(d) => {
                    time::Date::parse(d, time::macros::format_description!("[year]-[month]-[day]"))
                        .with_context(|| format!("--as-of {d}: expected YYYY-MM-DD"))?
                }
                None => time::OffsetDateTime::now_utc().date(),
            };
            let staff = crate::demo::seed_staff(&pool, demo.accounts).await?;
            let mut out = std::io::stdout().lock();
            if crate::demo::has_data(&pool).await? {
                writeln!(out, "Demo data already loaded; keeping it.")?;
            } else {
                drop(out);
                let loaded =
                    crate::demo::load(&pool, demo.seed, demo.accounts, as_of, &staff).await?;
                out = std::io::stdout().lock();
                writeln!(
                    out,
                    "Loaded {} accounts and {} events in {:.1} s.",
                    loaded.accounts, loaded.events, loaded.seconds
                )?;
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

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
    /// Set up the demo company and its staff logins, then serve.
    Demo(Config),
    /// Manage users.
    #[command(subcommand)]
    User(UserCommand),
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

/// The password every demo login uses.
pub const DEMO_PASSWORD: &str = "keel-demo-2026";

/// One login per role for the demo.
pub const DEMO_STAFF: [(&str, &str, Role); 6] = [
    ("admin@keel.demo", "Ada Admin", Role::Admin),
    ("manager@keel.demo", "Maya Manager", Role::Manager),
    ("csm@keel.demo", "Casey Success", Role::Csm),
    ("sales@keel.demo", "Sam Sales", Role::Sales),
    ("executive@keel.demo", "Eve Executive", Role::Executive),
    ("analyst@keel.demo", "Ana Analyst", Role::Analyst),
];

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
        Command::Demo(config) => {
            let pool = ready_database(&config).await?;
            seed_demo_staff(&pool).await?;
            let mut out = std::io::stdout().lock();
            writeln!(out, "\nKeel demo at http://{}", config.bind)?;
            writeln!(out, "Logins (password for all: {DEMO_PASSWORD}):")?;
            for (email, _, role) in DEMO_STAFF {
                writeln!(out, "  {:<10} {email}", role.as_str())?;
            }
            drop(out);
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

/// Creates the demo logins that do not exist yet; existing ones are left as they are.
pub async fn seed_demo_staff(pool: &PgPool) -> anyhow::Result<()> {
    let mut manager_id = None;
    for (email, name, role) in DEMO_STAFF {
        if let Some(existing) = users_db::find_credentials(pool, email).await? {
            if role == Role::Manager {
                manager_id = Some(existing.id);
            }
            continue;
        }
        let input = UserInput {
            email: email.to_owned(),
            name: name.to_owned(),
            role: role.as_str().to_owned(),
            manager_id: if role == Role::Csm { manager_id } else { None },
            password: DEMO_PASSWORD.to_owned(),
        };
        match users::create(pool, &Actor::Cli, &input).await {
            Ok(id) if role == Role::Manager => manager_id = Some(id),
            Ok(_) => {}
            Err(UserError::Invalid(e)) => bail!("demo user {email} refused: {:?}", e.0),
            Err(UserError::App(e)) => return Err(anyhow::anyhow!(e)),
        }
    }
    Ok(())
}

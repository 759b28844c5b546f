//! `keel import ENTITY FILE [--mapping NAME]`: a large file streamed in chunks, with a
//! progress bar on a terminal (a line a chunk otherwise) and a summary at the end.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use crate::auth::audit::Actor;
use crate::config::Config;
use crate::ingest::import::{CHUNK_ROWS, Plan, Progress, import, known_accounts};
use crate::ingest::{Entity, mapping};

#[derive(clap::Args)]
pub struct Args {
    /// What the file holds: accounts, contacts, subscriptions, events, tickets, nps or notes.
    #[arg(value_parser = str::parse::<Entity>)]
    entity: Entity,
    /// The CSV file.
    file: PathBuf,
    /// A column mapping saved on the upload page, for a file with its own headers.
    #[arg(long)]
    mapping: Option<String>,
    /// Rows per chunk; keep it the same when re-running an interrupted import, so the
    /// chunks already in are recognised and skipped.
    #[arg(long, default_value_t = CHUNK_ROWS)]
    chunk_rows: usize,
    /// Leave out the rows that name an account Keel does not know (an export's trials and
    /// deleted accounts) instead of refusing their chunk; the summary says how many and
    /// which. Load the accounts first: rows left out are not kept anywhere.
    #[arg(long)]
    skip_unknown_accounts: bool,
    #[command(flatten)]
    config: Config,
}

fn bar(p: &Progress) -> String {
    let share = if p.bytes_total > 0 {
        p.bytes_read as f64 / p.bytes_total as f64
    } else {
        1.0
    };
    let filled = (share * 30.0).round() as usize;
    format!(
        "[{}{}] {:>3.0} %  {} chunks ({} already in)  {} rows  {} events  {:.0} rows/s",
        "#".repeat(filled),
        "-".repeat(30 - filled.min(30)),
        100.0 * share,
        p.chunks,
        p.unchanged,
        p.rows,
        p.events,
        p.rows as f64 / p.seconds.max(1e-3)
    )
}

pub async fn run(args: Args) -> anyhow::Result<()> {
    let pool = super::ready_database(&args.config).await?;
    let mapping = match &args.mapping {
        Some(name) => Some(
            mapping::named(&pool, name, args.entity)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?,
        ),
        None => None,
    };
    let known = if args.skip_unknown_accounts {
        Some(known_accounts(&pool, &args.file, mapping.as_ref()).await?)
    } else {
        None
    };
    let terminal = std::io::stderr().is_terminal();
    let draw = |p: &Progress| {
        let mut err = std::io::stderr().lock();
        let _ = if terminal {
            write!(err, "\r{}", bar(p))
        } else {
            writeln!(err, "{}", bar(p))
        };
    };
    let plan = Plan {
        entity: args.entity,
        path: &args.file,
        mapping: mapping.as_ref(),
        chunk_rows: args.chunk_rows,
        known,
    };
    let result = import(&pool, plan, &Actor::Cli, draw).await;
    if terminal {
        eprintln!();
    }
    let done = result?;
    // A bulk load changes the tables' shape more than autovacuum's thresholds notice soon.
    // Events also get vacuumed, as the demo's are: otherwise the first training over them
    // marks every loaded row's commit as it reads, writing each page back.
    if args.entity == Entity::Events {
        crate::db::vacuum_analyze(&pool).await?;
    } else {
        crate::db::analyze(&pool).await?;
    }
    writeln!(
        std::io::stdout(),
        "imported {} {} rows from {} in {:.1} s: {} chunks written, {} already in; {} events new ({:.0} events/s, {:.0} rows/s)",
        done.rows,
        args.entity,
        args.file.display(),
        done.seconds,
        done.accepted,
        done.unchanged,
        done.events,
        done.events as f64 / done.seconds.max(1e-3),
        done.rows as f64 / done.seconds.max(1e-3)
    )?;
    if done.skipped > 0 {
        writeln!(
            std::io::stdout(),
            "left out {} rows naming accounts Keel does not know, among them {}",
            done.skipped,
            done.unknown.join(", ")
        )?;
    }
    Ok(())
}

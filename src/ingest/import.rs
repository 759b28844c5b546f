//! `keel import ENTITY FILE`: a file too large for the browser, streamed in chunks of whole
//! CSV records, each chunk checked and committed as its own batch. A chunk's content decides
//! its identity, so running the same import again after an interruption skips the chunks
//! already in and completes the load without counting anything twice. A refused chunk stops
//! the import, naming the file's row, the column and the reason.

use std::collections::HashSet;
use std::fs::File;
use std::io::BufReader;
use std::path::Path;
use std::time::Instant;

use anyhow::{Context, bail};
use sqlx::PgPool;
use tokio::sync::mpsc;

use super::mapping::ColumnMap;
use super::{Entity, Payload, Status, ingest};
use crate::auth::audit::Actor;

/// Rows per chunk unless told otherwise: large enough to amortise a transaction, small
/// enough to keep a chunk's memory modest and its retry cheap.
pub const CHUNK_ROWS: usize = 100_000;

/// Where an import stands, after each chunk.
#[derive(Clone, Debug, Default)]
pub struct Progress {
    pub chunks: usize,
    pub accepted: usize,
    /// Already in from an earlier run: skipped.
    pub unchanged: usize,
    pub rows: usize,
    pub events: u64,
    pub bytes_read: u64,
    pub bytes_total: u64,
    pub seconds: f64,
    /// Rows left out because they name an account Keel does not know (when asked to).
    pub skipped: usize,
    /// Some of those accounts, to say which.
    pub unknown: Vec<String>,
}

/// Rows to leave out: those whose account (the file's column at `column`) Keel does not
/// know.
pub struct Known {
    pub column: usize,
    pub accounts: HashSet<String>,
}

/// Keeps the first five distinct unknown accounts, to name them.
fn note_unknown(list: &mut Vec<String>, account: &str) {
    if list.len() < 5 && !list.iter().any(|u| u == account) {
        list.push(account.to_owned());
    }
}

/// One chunk as read: its first row's number in the file (1 = the first data row) and
/// the CSV text, header included.
struct Chunk {
    first_row: usize,
    rows: usize,
    csv: Vec<u8>,
    bytes_read: u64,
    skipped: usize,
    unknown: Vec<String>,
    /// The file's row number of each row the chunk kept.
    file_rows: Vec<usize>,
}

/// Reads whole CSV records into chunks on a blocking thread, one chunk ahead of the writer.
fn read_chunks(
    path: &Path,
    chunk_rows: usize,
    known: Option<Known>,
) -> anyhow::Result<mpsc::Receiver<anyhow::Result<Chunk>>> {
    let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let (tx, rx) = mpsc::channel(1);
    tokio::task::spawn_blocking(move || {
        let mut reader =
            csv::ReaderBuilder::new().from_reader(BufReader::with_capacity(1 << 20, file));
        let send = |c| tx.blocking_send(c).is_ok();
        let header = match reader.byte_headers() {
            Ok(h) => h.clone(),
            Err(e) => return send(Err(anyhow::anyhow!("the header cannot be read: {e}"))),
        };
        let (mut first_row, mut record) = (1, csv::ByteRecord::new());
        loop {
            let mut out = csv::Writer::from_writer(Vec::with_capacity(8 << 20));
            let (mut rows, mut skipped, mut unknown) = (0, 0, Vec::new());
            let mut file_rows = Vec::with_capacity(chunk_rows.min(1 << 20));
            let written = out.write_byte_record(&header).map_err(anyhow::Error::from);
            if let Err(e) = written {
                return send(Err(e));
            }
            while rows < chunk_rows {
                match reader.read_byte_record(&mut record) {
                    Ok(false) => break,
                    Ok(true) => {}
                    Err(e) => {
                        let row = first_row + rows;
                        return send(Err(anyhow::anyhow!("row {row}: not readable as CSV ({e})")));
                    }
                }
                rows += 1;
                if let Some(k) = &known {
                    let account = record.get(k.column).map(|a| String::from_utf8_lossy(a));
                    if let Some(a) = account.filter(|a| !k.accounts.contains(a.trim())) {
                        skipped += 1;
                        note_unknown(&mut unknown, a.trim());
                        continue;
                    }
                }
                if let Err(e) = out.write_byte_record(&record) {
                    return send(Err(e.into()));
                }
                file_rows.push(first_row + rows - 1);
            }
            if rows == 0 {
                return true;
            }
            let csv = match out.into_inner() {
                Ok(csv) => csv,
                Err(e) => return send(Err(anyhow::anyhow!("{e}"))),
            };
            let bytes_read = reader.position().byte();
            if !send(Ok(Chunk {
                first_row,
                rows,
                csv,
                bytes_read,
                skipped,
                unknown,
                file_rows,
            })) {
                return false;
            }
            first_row += rows;
        }
    });
    Ok(rx)
}

/// The accounts Keel knows, and where the file names them: its `account_id` column, or the
/// column the mapping takes it from.
pub async fn known_accounts(
    pool: &PgPool,
    path: &Path,
    mapping: Option<&ColumnMap>,
) -> anyhow::Result<Known> {
    let header = mapping
        .and_then(|m| m.columns.get("account_id").cloned())
        .unwrap_or_else(|| "account_id".to_owned());
    let file = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    let headers = csv::Reader::from_reader(BufReader::new(file))
        .headers()?
        .clone();
    let Some(column) = headers.iter().position(|h| h.trim() == header) else {
        bail!("the file has no column '{header}' naming the account");
    };
    let accounts: Vec<String> = sqlx::query_scalar("select external_id from accounts")
        .fetch_all(pool)
        .await?;
    Ok(Known {
        column,
        accounts: accounts.into_iter().collect(),
    })
}

/// What to import and how.
pub struct Plan<'a> {
    pub entity: Entity,
    pub path: &'a Path,
    pub mapping: Option<&'a ColumnMap>,
    pub chunk_rows: usize,
    /// Leave out the rows naming accounts Keel does not know, instead of refusing them.
    pub known: Option<Known>,
}

/// Imports the file chunk by chunk, calling `progress` after each.
pub async fn import(
    pool: &PgPool,
    plan: Plan<'_>,
    actor: &Actor,
    mut progress: impl FnMut(&Progress),
) -> anyhow::Result<Progress> {
    let Plan {
        entity,
        path,
        mapping,
        chunk_rows,
        known,
    } = plan;
    let started = Instant::now();
    let mut p = Progress {
        bytes_total: std::fs::metadata(path)?.len(),
        ..Progress::default()
    };
    let name = path
        .file_name()
        .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
    let mut chunks = read_chunks(path, chunk_rows.max(1), known)?;
    while let Some(chunk) = chunks.recv().await {
        let chunk = chunk?;
        let at = |r: usize| chunk.file_rows.get(r - 1).copied().unwrap_or(0);
        p.skipped += chunk.skipped;
        for u in &chunk.unknown {
            note_unknown(&mut p.unknown, u);
        }
        if chunk.file_rows.is_empty() {
            // Every row of it named an unknown account: nothing to write.
            p.chunks += 1;
            p.rows += chunk.rows;
            p.bytes_read = chunk.bytes_read;
            p.seconds = started.elapsed().as_secs_f64();
            progress(&p);
            continue;
        }
        let source = format!("import:{name}#{}", p.chunks + 1);
        let outcome = ingest(
            pool,
            entity,
            Payload::Csv(chunk.csv),
            mapping,
            &source,
            actor,
        )
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
        if outcome.status == Status::Rejected {
            let said: Vec<String> = outcome
                .errors
                .iter()
                .take(5)
                .map(|e| {
                    let at = match (e.row, e.column.as_str()) {
                        (0, "") => "the file".to_owned(),
                        (0, c) => format!("header, column {c}"),
                        (r, "") => format!("row {}", at(r)),
                        (r, c) => format!("row {}, column {c}", at(r)),
                    };
                    format!("{at}: {}", e.message)
                })
                .collect();
            bail!(
                "chunk {} (rows {} to {}) refused, nothing of it written; the {} chunks before it are in. {}",
                p.chunks + 1,
                chunk.first_row,
                chunk.first_row + chunk.rows - 1,
                p.chunks,
                said.join("; ")
            );
        }
        p.chunks += 1;
        p.rows += chunk.rows;
        p.events += outcome.events;
        p.bytes_read = chunk.bytes_read;
        match outcome.status {
            Status::Unchanged => p.unchanged += 1,
            _ => p.accepted += 1,
        }
        p.seconds = started.elapsed().as_secs_f64();
        progress(&p);
    }
    Ok(p)
}

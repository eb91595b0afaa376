//! `dyad pregen bulk`: a wallet of each type for every person of a CSV, through
//! `dyad_vault::bulk` (each share in the vault before its wallet is confirmed; idempotent;
//! killable and resumed by running the same command again; one batch connection). This file
//! reads the CSV, shows progress and shapes the summary.
//!
//! It must never print a share, and never let one bad row stop the run: a row's failure is
//! reported with its row number in the summary.

use std::collections::HashMap;
use std::io::IsTerminal;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use dyad_proto::pregen::KINDS;
use dyad_proto::{PregenId, WalletType};
use dyad_sdk::Dyad;
use dyad_vault::bulk::{self, Outcome};
use dyad_vault::ShareVault;
use serde::Serialize;

use crate::keep::vault_error;
use crate::CliError;

/// One person of the CSV: the row it is on (the header is row 1) and who they are.
#[derive(Clone, Debug)]
struct Person {
    row: u64,
    id: PregenId,
}

/// A row, type or column that did not make a wallet, and why.
#[derive(Clone, Debug, Serialize)]
pub struct Failure {
    /// CSV row (the header is row 1).
    pub row: u64,
    /// The wallet type, or `None` for a row or column that makes no wallet at all.
    #[serde(rename = "type")]
    pub wallet_type: Option<WalletType>,
    /// What went wrong (never a secret).
    pub error: String,
}

/// What a run did.
#[derive(Clone, Debug, Serialize)]
pub struct Summary {
    /// Wallets made by this run.
    pub created: u64,
    /// Wallets that existed already, with their share in the vault.
    pub skipped: u64,
    /// What failed.
    pub failed: Vec<Failure>,
    /// Wall-clock seconds.
    pub seconds: f64,
}

/// The identifier kind a CSV column names: the wire spelling (`customId`) or its snake_case
/// (`custom_id`), in any case.
fn column_kind(header: &str) -> Option<&'static str> {
    let h = header.trim().to_ascii_lowercase().replace('_', "");
    KINDS.iter().copied().find(|k| k.to_ascii_lowercase() == h)
}

/// The people of a CSV, and what in it cannot make a wallet. A row's identifier is its first
/// non-empty identifier cell, in the header's column order.
fn read_people(path: &Path) -> Result<(Vec<Person>, Vec<Failure>), CliError> {
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .from_path(path)
        .map_err(|e| CliError::Usage(format!("reading {}: {e}", path.display())))?;
    let headers = reader
        .headers()
        .map_err(|e| CliError::Usage(format!("reading {}: {e}", path.display())))?
        .clone();
    let mut failed = Vec::new();
    let columns: Vec<Option<&'static str>> = headers.iter().map(column_kind).collect();
    for (name, kind) in headers.iter().zip(&columns) {
        if kind.is_none() {
            failed.push(Failure {
                row: 1,
                wallet_type: None,
                error: format!(
                    "unknown column {name:?} (ignored): identifier columns are {}",
                    KINDS.join(", ")
                ),
            });
        }
    }
    if columns.iter().all(Option::is_none) {
        return Err(CliError::Usage(format!(
            "{} has no identifier column: give a header with one of {}",
            path.display(),
            KINDS.join(", ")
        )));
    }
    let mut people = Vec::new();
    let mut first_row: HashMap<PregenId, u64> = HashMap::new();
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let row = e.position().map_or(0, |p| p.line());
                failed.push(Failure {
                    row,
                    wallet_type: None,
                    error: format!("unreadable row: {e}"),
                });
                continue;
            }
        };
        let row = record.position().map_or(0, |p| p.line());
        let cell = record
            .iter()
            .zip(&columns)
            .find_map(|(value, kind)| kind.filter(|_| !value.is_empty()).map(|k| (k, value)));
        let Some((kind, value)) = cell else {
            failed.push(Failure {
                row,
                wallet_type: None,
                error: "no identifier in this row".into(),
            });
            continue;
        };
        let id = match PregenId::parse(kind, value) {
            Ok(id) => id,
            Err(e) => {
                failed.push(Failure {
                    row,
                    wallet_type: None,
                    error: e.to_string(),
                });
                continue;
            }
        };
        if let Some(first) = first_row.get(&id) {
            failed.push(Failure {
                row,
                wallet_type: None,
                error: format!("the same person as row {first}"),
            });
            continue;
        }
        first_row.insert(id.clone(), row);
        people.push(Person { row, id });
    }
    Ok((people, failed))
}

/// How a run reports progress: a bar on a terminal, else a line at each whole percent.
struct Progress {
    total: AtomicU64,
    done: AtomicU64,
    created: AtomicU64,
    skipped: AtomicU64,
    failed: AtomicU64,
    started: Mutex<Instant>,
    bar: Option<indicatif::ProgressBar>,
    last_percent: Mutex<u64>,
}

impl Progress {
    fn new() -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = indicatif::ProgressBar::new(0);
            if let Ok(style) =
                indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} wallets  {per_sec}  ETA {eta}  {msg}")
            {
                bar.set_style(style);
            }
            bar
        });
        Self {
            total: AtomicU64::new(0),
            done: AtomicU64::new(0),
            created: AtomicU64::new(0),
            skipped: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            started: Mutex::new(Instant::now()),
            bar,
            last_percent: Mutex::new(0),
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish();
        }
    }
}

impl bulk::Progress for Progress {
    fn start(&self, total: u64) {
        self.total.store(total, Ordering::Relaxed);
        // The rate counts from the first wallet, not from listing what exists.
        *self.started.lock().unwrap_or_else(|p| p.into_inner()) = Instant::now();
        if let Some(bar) = &self.bar {
            bar.set_length(total);
            bar.reset();
        }
    }

    fn record(&self, outcome: &Outcome) {
        match outcome {
            Outcome::Created => &self.created,
            Outcome::Skipped => &self.skipped,
            Outcome::Failed(_) => &self.failed,
        }
        .fetch_add(1, Ordering::Relaxed);
        let done = self.done.fetch_add(1, Ordering::Relaxed) + 1;
        let counts = format!(
            "{} created, {} skipped, {} failed",
            self.created.load(Ordering::Relaxed),
            self.skipped.load(Ordering::Relaxed),
            self.failed.load(Ordering::Relaxed)
        );
        if let Some(bar) = &self.bar {
            bar.set_message(counts);
            bar.inc(1);
            return;
        }
        let total = self.total.load(Ordering::Relaxed);
        let percent = done * 100 / total.max(1);
        let mut last = self.last_percent.lock().unwrap_or_else(|p| p.into_inner());
        if percent > *last || done == total {
            *last = percent;
            let secs = self
                .started
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .elapsed()
                .as_secs_f64();
            let rate = done as f64 / secs.max(1e-3);
            let eta = total.saturating_sub(done) as f64 / rate.max(1e-3);
            eprintln!("bulk: {done}/{total} wallets ({counts}), {rate:.1}/s, ETA {eta:.0}s");
        }
    }
}

/// Run a bulk pregeneration.
pub async fn run(
    dyad: Dyad,
    csv_path: &Path,
    types: &[WalletType],
    vault: ShareVault,
    concurrency: usize,
) -> Result<Summary, CliError> {
    let started = Instant::now();
    let (people, mut failed) = read_people(csv_path)?;
    let people: Vec<bulk::Person> = people
        .into_iter()
        .map(|p| bulk::Person { at: p.row, id: p.id })
        .collect();
    let progress = Progress::new();
    let report = bulk::pregenerate(&dyad, Arc::new(vault), &people, types, concurrency, &progress)
        .await
        .map_err(|e| match e {
            bulk::BulkError::Dyad(e) => CliError::Sdk(e),
            bulk::BulkError::Vault(e) => vault_error(e),
        })?;
    progress.finish();
    failed.extend(report.failed.into_iter().map(|f| Failure {
        row: f.at,
        wallet_type: Some(f.wallet_type),
        error: f.error,
    }));
    failed.sort_by_key(|f| f.row);
    Ok(Summary {
        created: report.created,
        skipped: report.skipped,
        failed,
        seconds: started.elapsed().as_secs_f64(),
    })
}

//! `dyad pregen bulk`: a wallet of each type for every person of a CSV, each user share sealed
//! into the vault **before** its wallet is confirmed to the server (so no wallet the server
//! created is without its share), idempotent (people who have a wallet of a type are skipped),
//! killable at any moment and resumed by running the same command again. Every wallet is made
//! over one batch connection (`Dyad::batch`), each still its own ceremony.
//!
//! It must never print a share, and never let one bad row stop the run: a row's failure is
//! reported with its row number in the summary.

use std::collections::{HashMap, HashSet};
use std::io::IsTerminal;
use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use dyad_proto::pregen::KINDS;
use dyad_proto::{ErrorCode, PregenId, WalletId, WalletType};
use dyad_sdk::{Batch, Dyad, SdkError};
use dyad_vault::ShareVault;
use futures_util::StreamExt;
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
    total: u64,
    done: AtomicU64,
    created: AtomicU64,
    skipped: AtomicU64,
    failed: AtomicU64,
    started: Instant,
    bar: Option<indicatif::ProgressBar>,
    last_percent: Mutex<u64>,
}

impl Progress {
    fn new(total: u64) -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = indicatif::ProgressBar::new(total);
            if let Ok(style) =
                indicatif::ProgressStyle::with_template("{bar:40} {pos}/{len} wallets  {per_sec}  ETA {eta}  {msg}")
            {
                bar.set_style(style);
            }
            bar
        });
        Self {
            total,
            done: AtomicU64::new(0),
            created: AtomicU64::new(0),
            skipped: AtomicU64::new(0),
            failed: AtomicU64::new(0),
            started: Instant::now(),
            bar,
            last_percent: Mutex::new(0),
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
        let percent = done * 100 / self.total.max(1);
        let mut last = self.last_percent.lock().unwrap_or_else(|p| p.into_inner());
        if percent > *last || done == self.total {
            *last = percent;
            let secs = self.started.elapsed().as_secs_f64();
            let rate = done as f64 / secs.max(1e-3);
            let eta = (self.total - done) as f64 / rate.max(1e-3);
            eprintln!(
                "bulk: {done}/{} wallets ({counts}), {rate:.1}/s, ETA {eta:.0}s",
                self.total
            );
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish();
        }
    }
}

/// One wallet's result.
enum Outcome {
    Created,
    Skipped,
    Failed(String),
}

/// How long a create waits, in all, for a ceremony of the same person that an earlier, killed
/// run left behind. One whose WebSocket was connected ends when the server notices the
/// connection gone; one killed between its request and its connection holds the identifier
/// until its ticket expires (the server's `ceremony_ttl`, 60 s by default).
const IN_PROGRESS_PATIENCE: Duration = Duration::from_secs(75);

/// Make one wallet over the batch connection, its share sealed into `vault` before the
/// confirmation.
async fn create_one(batch: &Batch<'_>, vault: &Arc<ShareVault>, wallet_type: WalletType, id: &PregenId) -> Outcome {
    let started = Instant::now();
    let mut wait = Duration::from_millis(100);
    loop {
        let vault = vault.clone();
        let keep: dyad_sdk::KeepShare<'static> = Box::new(move |share| {
            Box::pin(async move { vault.put(&share).await.map(|_| ()).map_err(|e| e.to_string()) })
        });
        return match batch.create_pregen_wallet_kept(wallet_type, id, keep).await {
            Ok(_) => Outcome::Created,
            // Another run made it meanwhile (its share went to the vault before it was confirmed).
            Err(SdkError::Api {
                code: ErrorCode::WalletExists,
                ..
            }) => Outcome::Skipped,
            Err(SdkError::Api {
                code: ErrorCode::CeremonyInProgress,
                ..
            }) if started.elapsed() < IN_PROGRESS_PATIENCE => {
                tokio::time::sleep(wait).await;
                wait = (wait * 2).min(Duration::from_secs(2));
                continue;
            }
            Err(e) => Outcome::Failed(e.to_string()),
        };
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
    // What exists: the app's wallets on the server, and which of them have a share here.
    let existing: HashMap<(PregenId, WalletType), WalletId> = dyad
        .get_all_pregen_wallets()
        .await?
        .into_iter()
        .map(|w| ((w.pregen_id, w.wallet_type), w.id))
        .collect();
    let in_vault: HashSet<WalletId> = vault
        .list()
        .await
        .map_err(vault_error)?
        .into_iter()
        .map(|r| r.wallet_id)
        .collect();
    let mut skipped = 0u64;
    let mut jobs = Vec::new();
    for p in &people {
        for &t in types {
            match existing.get(&(p.id.clone(), t)) {
                Some(w) if in_vault.contains(w) => skipped += 1,
                Some(w) => failed.push(Failure {
                    row: p.row,
                    wallet_type: Some(t),
                    error: format!("wallet {w} exists, but its share is not in this vault"),
                }),
                None => jobs.push((p.clone(), t)),
            }
        }
    }
    let progress = Progress::new(jobs.len() as u64);
    let vault = Arc::new(vault);
    // One connection for every wallet of the run: no HTTP request or WebSocket per wallet.
    let batch = &dyad.batch().await?;
    let results: Vec<(Person, WalletType, Outcome)> = futures_util::stream::iter(jobs)
        .map(|(p, t)| {
            let vault = vault.clone();
            let progress = &progress;
            async move {
                let outcome = create_one(batch, &vault, t, &p.id).await;
                progress.record(&outcome);
                (p, t, outcome)
            }
        })
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await;
    progress.finish();
    let mut created = 0u64;
    for (p, t, outcome) in results {
        match outcome {
            Outcome::Created => created += 1,
            Outcome::Skipped => skipped += 1,
            Outcome::Failed(error) => failed.push(Failure {
                row: p.row,
                wallet_type: Some(t),
                error,
            }),
        }
    }
    failed.sort_by_key(|f| f.row);
    Ok(Summary {
        created,
        skipped,
        failed,
        seconds: started.elapsed().as_secs_f64(),
    })
}

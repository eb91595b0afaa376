//! Bulk pregeneration straight into a vault, for `dyad pregen bulk` and the agent's
//! `POST /v1/wallets/bulk`: a wallet of each type for every person, each user share sealed into
//! the vault **before** its wallet is confirmed to the server (so no wallet the server created
//! is without its share), idempotent (a person who has a wallet of a type, with its share here,
//! is skipped), killable at any moment and resumed by running it again. Every wallet goes over
//! one batch connection (`Dyad::batch`), each still its own ceremony.
//!
//! It never lets one person's failure stop the run: each is reported with its position.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use dyad_proto::{ErrorCode, PregenId, WalletId, WalletType};
use dyad_sdk::{Batch, Dyad, SdkError};
use futures_util::StreamExt;

use crate::{ShareVault, VaultError};

/// One person to make wallets for, and where the caller found them (a CSV row, a list index).
#[derive(Clone, Debug)]
pub struct Person {
    /// The caller's position of this person, reported back with any failure.
    pub at: u64,
    /// Who they are.
    pub id: PregenId,
}

/// A wallet that was not made, and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failure {
    /// The person's position.
    pub at: u64,
    /// The wallet type.
    pub wallet_type: WalletType,
    /// What went wrong (never a secret).
    pub error: String,
}

/// One wallet's result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Made by this run.
    Created,
    /// Made before (by an earlier run, or a concurrent one), its share in the vault.
    Skipped,
    /// Not made.
    Failed(String),
}

/// What a run did.
#[derive(Clone, Debug, Default)]
pub struct Report {
    /// Wallets made.
    pub created: u64,
    /// Wallets that existed already, with their share in the vault.
    pub skipped: u64,
    /// Wallets not made, in the order of their people.
    pub failed: Vec<Failure>,
}

/// Told how a run goes (a progress bar, log lines; or nothing).
pub trait Progress: Sync {
    /// `total` wallets are to be made (after the skipped ones were counted).
    fn start(&self, total: u64);
    /// One wallet ended so.
    fn record(&self, outcome: &Outcome);
}

/// A [`Progress`] that tells nobody.
pub struct Quiet;

impl Progress for Quiet {
    fn start(&self, _: u64) {}
    fn record(&self, _: &Outcome) {}
}

/// How long a create waits, in all, for a ceremony of the same person that an earlier, killed
/// run left behind. One whose connection was open ends when the server notices it gone; one
/// killed between its request and its connection holds the identifier until its ticket
/// expires (the server's `ceremony_ttl`, 60 s by default).
const IN_PROGRESS_PATIENCE: Duration = Duration::from_secs(75);

/// Make a wallet of each of `types` for each of `people` (at most `concurrency` at once), each
/// share into `vault` before its confirmation. Fails as a whole only when the server or the
/// vault cannot be read at the start, or the batch connection cannot be opened.
pub async fn pregenerate(
    dyad: &Dyad,
    vault: Arc<ShareVault>,
    people: &[Person],
    types: &[WalletType],
    concurrency: usize,
    progress: &dyn Progress,
) -> Result<Report, BulkError> {
    // What exists: the app's wallets on the server, and which of them have a share here.
    let existing: HashMap<(PregenId, WalletType), WalletId> = dyad
        .get_all_pregen_wallets()
        .await?
        .into_iter()
        .map(|w| ((w.pregen_id, w.wallet_type), w.id))
        .collect();
    let in_vault: HashSet<WalletId> = vault.list().await?.into_iter().map(|r| r.wallet_id).collect();
    let mut report = Report::default();
    let mut jobs = Vec::new();
    for p in people {
        for &t in types {
            match existing.get(&(p.id.clone(), t)) {
                Some(w) if in_vault.contains(w) => report.skipped += 1,
                Some(w) => report.failed.push(Failure {
                    at: p.at,
                    wallet_type: t,
                    error: format!("wallet {w} exists, but its share is not in this vault"),
                }),
                None => jobs.push((p.at, p.id.clone(), t)),
            }
        }
    }
    progress.start(jobs.len() as u64);
    if jobs.is_empty() {
        return Ok(report);
    }
    // One connection for every wallet of the run: no HTTP request or WebSocket per wallet.
    let batch = &dyad.batch().await?;
    let results: Vec<(u64, WalletType, Outcome)> = futures_util::stream::iter(jobs)
        .map(|(at, id, t): (u64, PregenId, WalletType)| {
            let vault = vault.clone();
            async move {
                let outcome = create_one(batch, vault, t, &id).await;
                progress.record(&outcome);
                (at, t, outcome)
            }
        })
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await;
    for (at, wallet_type, outcome) in results {
        match outcome {
            Outcome::Created => report.created += 1,
            Outcome::Skipped => report.skipped += 1,
            Outcome::Failed(error) => report.failed.push(Failure { at, wallet_type, error }),
        }
    }
    report.failed.sort_by_key(|f| f.at);
    Ok(report)
}

/// Make one wallet over the batch connection, its share sealed into `vault` before the
/// confirmation.
async fn create_one(batch: &Batch<'_>, vault: Arc<ShareVault>, wallet_type: WalletType, id: &PregenId) -> Outcome {
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

/// Why a run could not start.
#[derive(Debug, thiserror::Error)]
pub enum BulkError {
    /// The server could not be listed or the batch connection opened.
    #[error(transparent)]
    Dyad(#[from] SdkError),
    /// The vault could not be read.
    #[error("vault: {0}")]
    Vault(#[from] VaultError),
}

//! What the agent does for a caller, as the user party: make a wallet with its share sealed into
//! the vault before the wallet is confirmed to the Dyad server, describe a wallet it holds, sign
//! with a share read from the vault. Routes call these; nothing else touches a share.

use std::collections::HashMap;
use std::sync::Arc;

use dyad_proto::{CeremonyKey, ErrorCode, PregenId, WalletId, WalletStatus};
use dyad_sdk::{Dyad, KeepShare, SdkError};
use dyad_vault::{bulk, ShareVault, VaultRecord};
use zeroize::Zeroizing;

use crate::audit::{Audit, AuditAction};
use crate::error::AgentError;
use crate::para::{
    Bulk, BulkFailure, BulkSummary, CreateWallet, ParaWallet, SignMessage, SignRaw, SignTransaction, SignTypedData,
    Signature, SignedTransaction,
};

/// The user party of one app: its Dyad server and API key, and the vault of its user shares.
pub struct Agent {
    server_url: String,
    api_key: Zeroizing<String>,
    http: reqwest::Client,
    ceremony_key: CeremonyKey,
    vault: Arc<ShareVault>,
    /// Set when the operator allowed handing shares over: where each hand-over is audited.
    share_export: Option<Audit>,
}

impl std::fmt::Debug for Agent {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Agent")
            .field("server_url", &self.server_url)
            .field("ceremony_key", &self.ceremony_key.to_string())
            .finish_non_exhaustive()
    }
}

impl Agent {
    /// The agent for the app of `api_key` on the Dyad server at `server_url`, keeping shares in
    /// `vault`. The server's ceremony key is fetched once and pinned, or, given, checked: every
    /// ceremony after is encrypted to it alone.
    pub async fn connect(
        server_url: &str,
        api_key: &str,
        vault: ShareVault,
        pinned: Option<CeremonyKey>,
    ) -> Result<Self, AgentError> {
        let http = dyad_sdk::default_client();
        let probe = Dyad::with_http(server_url, api_key, http.clone());
        let probe = match pinned {
            Some(key) => probe.with_ceremony_key(key),
            None => probe,
        };
        let ceremony_key = probe
            .verify_ceremony_key()
            .await
            .map_err(|e| AgentError::Setup(format!("reaching the Dyad server at {server_url}: {e}")))?;
        Ok(Self {
            server_url: server_url.to_string(),
            api_key: Zeroizing::new(api_key.to_string()),
            http,
            ceremony_key,
            vault: Arc::new(vault),
            share_export: None,
        })
    }

    /// Allow handing a wallet's user share to a caller (for its person to claim it from their
    /// own client), each hand-over recorded in `audit` before it happens. Off unless called.
    pub fn with_share_export(mut self, audit: Audit) -> Self {
        self.share_export = Some(audit);
        self
    }

    /// A client of the server for one call, pinned to its ceremony key, holding no share yet.
    fn client(&self) -> Dyad {
        Dyad::with_http(&self.server_url, &self.api_key, self.http.clone()).with_ceremony_key(self.ceremony_key)
    }

    /// Make a wallet. Its user share is in the vault (synced) before the server is told the
    /// key is held, so a wallet the server made always has its share here.
    pub async fn create(&self, req: &CreateWallet) -> Result<ParaWallet, AgentError> {
        let vault = self.vault.clone();
        // The record the vault wrote, for the answer: read back after the commit, a failing
        // vault would turn a made wallet into an error.
        let (kept_tx, kept_rx) = tokio::sync::oneshot::channel::<VaultRecord>();
        let keep: KeepShare<'static> = Box::new(move |share| {
            Box::pin(async move {
                let record = vault.put(&share).await.map_err(|e| e.to_string())?;
                let _ = kept_tx.send(record);
                Ok(())
            })
        });
        let made = self
            .client()
            .create_pregen_wallet_kept(req.wallet_type, &req.pregen_id, keep)
            .await;
        let view = match made {
            Ok(view) => view,
            Err(SdkError::Api {
                code: ErrorCode::WalletExists,
                wallet_id: Some(existing),
                ..
            }) => return Err(AgentError::WalletExists(existing)),
            Err(e) => return Err(e.into()),
        };
        let created_at = match kept_rx.await {
            Ok(record) => record.created_at,
            Err(_) => crate::state::now(),
        };
        Ok(ParaWallet::of(&view, created_at))
    }

    /// A wallet of each type for each person (as `dyad pregen bulk`, over one batch
    /// connection, each share in the vault before its confirmation). A person who has a wallet
    /// of a type, with its share here, is skipped, so a repeat after a failure makes the rest.
    pub async fn bulk(&self, req: Bulk) -> Result<BulkSummary, AgentError> {
        let started = std::time::Instant::now();
        let report = bulk::pregenerate(
            &self.client(),
            self.vault.clone(),
            &req.people,
            &req.types,
            req.concurrency,
            &bulk::Quiet,
        )
        .await
        .map_err(|e| match e {
            bulk::BulkError::Dyad(e) => AgentError::Dyad(e),
            bulk::BulkError::Vault(e) => AgentError::Vault(e),
        })?;
        let mut failed = req.refused;
        failed.extend(report.failed.into_iter().map(|f| BulkFailure {
            index: f.at,
            wallet_type: Some(f.wallet_type),
            error: f.error,
        }));
        failed.sort_by_key(|f| f.index);
        Ok(BulkSummary {
            created: report.created,
            skipped: report.skipped,
            failed,
            seconds: started.elapsed().as_secs_f64(),
        })
    }

    /// A wallet whose share this agent holds, as the server describes it now.
    pub async fn wallet(&self, id: WalletId) -> Result<ParaWallet, AgentError> {
        let record = self.vault.record(id).await?.ok_or(AgentError::WalletNotFound(id))?;
        let view = self.client().get_wallet(id).await.map_err(|e| not_found_as(e, id))?;
        Ok(ParaWallet::of(&view, record.created_at))
    }

    /// The app's wallets whose shares this agent holds, oldest first: all of them, or those of
    /// one identifier. Statuses are the server's, now.
    pub async fn wallets(&self, who: Option<&PregenId>) -> Result<Vec<ParaWallet>, AgentError> {
        let client = self.client();
        let views = match who {
            Some(p) => client.get_pregen_wallets(p).await?,
            None => client.get_all_pregen_wallets().await?,
        };
        let mut held: HashMap<WalletId, i64> = HashMap::new();
        for r in self.vault.list().await? {
            // The first version's time: when the wallet came to this agent.
            held.entry(r.wallet_id).or_insert(r.created_at);
        }
        let mut out: Vec<ParaWallet> = views
            .iter()
            .filter_map(|v| held.get(&v.id).map(|at| ParaWallet::of(v, *at)))
            .collect();
        out.sort_by(|a, b| a.created_at.cmp(&b.created_at));
        Ok(out)
    }

    /// Sign a message with the wallet (EVM: EIP-191; COSMOS: ADR-036; STELLAR: SEP-53; SOLANA:
    /// the bytes, refused when they decode as a transaction).
    pub async fn sign_message(&self, id: WalletId, message: &SignMessage) -> Result<Signature, AgentError> {
        let (record, client) = self.loaded(id).await?;
        let signed = self.outcome(&record, client.sign_message(id, &message.0).await).await?;
        Ok(Signature::of(record.wallet_type, &signed.signature))
    }

    /// Sign a transaction with the wallet: decoded and summarised by the server before anything
    /// is signed, and answered with the transaction ready to broadcast.
    pub async fn sign_transaction(&self, id: WalletId, req: &SignTransaction) -> Result<SignedTransaction, AgentError> {
        let (record, client) = self.loaded(id).await?;
        let request = req.request(record.wallet_type)?;
        let signed = self
            .outcome(&record, client.sign_transaction(id, &request).await)
            .await?;
        Ok(SignedTransaction::of(
            record.wallet_type,
            &signed.signature,
            signed.signed_transaction.as_deref(),
        ))
    }

    /// Sign EIP-712 typed data (EVM wallets). Para answers this one in hex without `0x`.
    pub async fn sign_typed_data(&self, id: WalletId, req: &SignTypedData) -> Result<Signature, AgentError> {
        let (record, client) = self.loaded(id).await?;
        let signed = self
            .outcome(&record, client.sign_typed_data(id, &req.typed_data).await)
            .await?;
        Ok(Signature {
            signature: hex::encode(&signed.signature),
        })
    }

    /// Sign a 32-byte digest as is (EVM and COSMOS), if the app's Dyad settings allow it.
    pub async fn sign_raw(&self, id: WalletId, req: &SignRaw) -> Result<Signature, AgentError> {
        let (record, client) = self.loaded(id).await?;
        let signed = self.outcome(&record, client.sign_raw(id, req.0).await).await?;
        // Para answers sign-raw in 0x hex, whatever the chain.
        Ok(Signature {
            signature: format!("0x{}", hex::encode(&signed.signature)),
        })
    }

    /// Hand over the user share of `id` (the string `set_user_share` takes), so its person can
    /// claim the wallet from their own client. Refused unless the operator allowed it
    /// (`SHARE_EXPORT_DISABLED`), once the wallet is claimed (`WALLET_CLAIMED`: the app's share
    /// no longer counts), and when the vault's share is not the server's current key version
    /// (`SHARE_OUTDATED`). Audited (synced) before the share leaves.
    pub async fn export_share(&self, id: WalletId) -> Result<ExportedShare, AgentError> {
        let audit = self.share_export.as_ref().ok_or(AgentError::ShareExportDisabled)?;
        let (record, share) = self.held(id).await?;
        let view = self.client().get_wallet(id).await.map_err(|e| not_found_as(e, id))?;
        if view.status == WalletStatus::Claimed {
            return Err(AgentError::WalletClaimed(id));
        }
        if view.key_version != record.key_version {
            return Err(AgentError::ShareOutdated(id));
        }
        audit.record(AuditAction::ShareExported, id, record.key_version).await?;
        tracing::warn!(wallet = %id, key_version = record.key_version, "user share handed over");
        Ok(ExportedShare {
            wallet_id: id,
            key_version: record.key_version,
            user_share: share,
        })
    }

    /// A client holding the share of `id` from the vault, and the vault's record of it.
    async fn loaded(&self, id: WalletId) -> Result<(VaultRecord, Dyad), AgentError> {
        let (record, share) = self.held(id).await?;
        let client = self.client();
        client.set_user_share(&share).await?;
        Ok((record, client))
    }

    /// The vault's record and share of `id`, to sign or hand on: `WALLET_NOT_FOUND` when the
    /// vault has none, `SERVER_MISBEHAVED` when it is retired (`ShareVault::usable`).
    async fn held(&self, id: WalletId) -> Result<(VaultRecord, Zeroizing<String>), AgentError> {
        self.vault.usable(id).await?.ok_or(AgentError::WalletNotFound(id))
    }
}

impl Agent {
    /// A signing call's result. When the SDK caught the server cheating, the share is marked
    /// retired in the vault (synced) before the caller hears of it, so no later call, restart
    /// or other agent on the vault signs with it again.
    async fn outcome<T>(&self, record: &VaultRecord, result: Result<T, SdkError>) -> Result<T, AgentError> {
        match result {
            Ok(v) => Ok(v),
            Err(e @ SdkError::ServerMisbehaved { .. }) => {
                if let Err(v) = self.vault.retire(record.wallet_id, record.key_version).await {
                    // This process still refuses it (the SDK's own guard); a restart would not.
                    tracing::error!(wallet = %record.wallet_id, error = %v, "marking a share retired in the vault failed");
                }
                Err(e.into())
            }
            Err(e) => Err(not_found_as(e, record.wallet_id)),
        }
    }
}

/// The server's `WALLET_NOT_FOUND` as the agent's own (Para's 404).
fn not_found_as(e: SdkError, id: WalletId) -> AgentError {
    match e {
        SdkError::Api {
            code: ErrorCode::WalletNotFound,
            ..
        } => AgentError::WalletNotFound(id),
        e => e.into(),
    }
}

/// A user share handed over. Secret: its `Debug` is redacted and it zeroizes on drop.
#[derive(serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ExportedShare {
    /// The wallet.
    #[schema(value_type = String, format = "uuid")]
    pub wallet_id: WalletId,
    /// The share's key version.
    pub key_version: u32,
    /// The share string, as `set_user_share` takes it.
    #[serde(serialize_with = "expose")]
    #[schema(value_type = String)]
    pub user_share: Zeroizing<String>,
}

fn expose<S: serde::Serializer>(share: &Zeroizing<String>, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(share)
}

impl std::fmt::Debug for ExportedShare {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExportedShare")
            .field("wallet_id", &self.wallet_id)
            .field("key_version", &self.key_version)
            .field("user_share", &"<redacted>")
            .finish()
    }
}

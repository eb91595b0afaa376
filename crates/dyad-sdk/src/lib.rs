//! The Dyad client: the user party of every 2-of-2 wallet, with the method set of Para's
//! server SDK (`createPregenWallet`, `getUserShare`, `setUserShare`, `signMessage`, …).
//!
//! ```no_run
//! # async fn demo() -> Result<(), dyad_sdk::SdkError> {
//! use dyad_sdk::{Dyad, PregenId, WalletType};
//! let dyad = Dyad::new("http://127.0.0.1:8080", "dyad_beta_…");
//! let id = PregenId::parse("email", "user@example.com")?;
//! let wallet = dyad.create_pregen_wallet(WalletType::Evm, &id).await?;
//! let share = dyad.get_user_share()?;             // store it, encrypted, in your backend
//! let fresh = Dyad::new("http://127.0.0.1:8080", "dyad_beta_…");
//! fresh.set_user_share(share.expose()).await?;
//! let sig = fresh.sign_message(wallet.id, b"hello").await?;
//! # Ok(()) }
//! ```
//!
//! A client is cheap: create one per request, because a client holds the shares loaded into
//! it and handlers serving different users must never share one. It must never send its share
//! to anyone (only protocol messages leave it, inside the Noise channel), never log it, and never
//! sign anything the server has not been asked, by an authenticated call, to co-sign.

#[cfg(feature = "alloy")]
pub mod alloy;
mod batch;
mod ceremony;
mod claim;
mod error;
mod grant;
mod http;
mod login;
mod setup_pool;
mod share;
mod share_guard;
mod signing;
#[cfg(feature = "solana")]
pub mod solana;
mod transport;

use std::sync::{Arc, Mutex};

use zeroize::Zeroizing;

use dyad_proto::rest::{CeremonyTicket, CreateWalletRequest, InfoResponse, UpdateWalletRequest};
use reqwest::Method;
use tokio::sync::OnceCell;

pub use batch::Batch;
pub use ceremony::KeepShare;
pub use claim::ClaimedWallet;
pub use dyad_chains::{CosmosSignMode, Digest, TransactionRequest, TxSummary};
pub use dyad_proto::auth::{CodeSent, OAuthProvider, OAuthStarted, SessionView};
pub use dyad_proto::grant::{GrantRequest, GrantView, Operation};
pub use dyad_proto::rest::WalletList;
pub use dyad_proto::{CeremonyKey, ErrorCode, PregenId, WalletId, WalletStatus, WalletType, WalletView};
pub use dyad_proto::{RecoverySecret, SessionToken};
pub use error::SdkError;
pub use http::default_client;
pub use login::LoggedIn;
pub use share::{LoadedWallet, PendingClaim, UserShare};
use signing::SignCall;

/// A wallet as the server describes it.
pub type Wallet = WalletView;

/// What `sign_message` returns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignResult {
    /// The wallet that signed.
    pub wallet_id: WalletId,
    /// The chain-encoded signature: EVM 65 bytes `r‖s‖v` (v 27/28, low s); others 64 bytes.
    pub signature: Vec<u8>,
}

/// What `sign_transaction` returns.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedTransactionResult {
    /// The wallet that signed.
    pub wallet_id: WalletId,
    /// The chain-encoded signature (EVM 65 bytes `r‖s‖v`, v 27/28; others 64 bytes).
    pub signature: Vec<u8>,
    /// The signed transaction, ready to broadcast (none for Cosmos amino).
    pub signed_transaction: Option<Vec<u8>>,
}

impl SignResult {
    fn of(wallet_id: WalletId, signed: dyad_chains::SignedTransaction) -> Self {
        SignResult {
            wallet_id,
            signature: signed.signature,
        }
    }
}

impl SignedTransactionResult {
    fn of(wallet_id: WalletId, signed: dyad_chains::SignedTransaction) -> Self {
        SignedTransactionResult {
            wallet_id,
            signature: signed.signature,
            signed_transaction: signed.signed_transaction,
        }
    }
}

/// A ceremony that failed in its Noise handshake becomes [`SdkError::HandshakeFailed`]: the
/// server could not answer for the key the client encrypted to, and no share took part.
pub(crate) fn handshake_failure(e: SdkError, key: &CeremonyKey) -> SdkError {
    use dyad_proto::ProtoError;
    let in_handshake = match &e {
        SdkError::Ceremony(ProtoError::Channel(m)) => m.starts_with("handshake failed"),
        SdkError::Ceremony(ProtoError::Transport(m)) => m == transport::CLOSED_DURING_HANDSHAKE,
        _ => false,
    };
    if in_handshake {
        SdkError::HandshakeFailed {
            expected: key.to_string(),
        }
    } else {
        e
    }
}

/// A client of one Dyad server, authenticated by one API key, holding the user shares loaded
/// into it.
#[derive(Debug)]
pub struct Dyad {
    api: http::Api,
    /// The ceremony key the operator pinned, if any.
    pinned: Option<CeremonyKey>,
    /// The key `/v1/info` names, once fetched (and, if pinned, found equal to the pin).
    server_key: OnceCell<CeremonyKey>,
    wallets: Mutex<Vec<LoadedWallet>>,
    /// Key setups made ahead of time, if asked for ([`DyadBuilder::setup_pool`]).
    pool: Option<Arc<setup_pool::SetupPool>>,
}

/// Builds a [`Dyad`] client with options: `Dyad::builder(url, api_key).setup_pool(4).build()`.
#[derive(Debug)]
pub struct DyadBuilder {
    url: String,
    api_key: Zeroizing<String>,
    http: Option<reqwest::Client>,
    pinned: Option<CeremonyKey>,
    pool: usize,
}

impl DyadBuilder {
    /// Reuse an HTTP client, as [`Dyad::with_http`] does.
    pub fn http(mut self, http: reqwest::Client) -> Self {
        self.http = Some(http);
        self
    }

    /// Pin the server's ceremony key, as [`Dyad::with_ceremony_key`] does.
    pub fn ceremony_key(mut self, key: CeremonyKey) -> Self {
        self.pinned = Some(key);
        self
    }

    /// Keep up to `n` DKLs key setups made ahead of time with the server (the warm setup
    /// pool): an EVM or Cosmos key generation then takes one and has most of its work done
    /// already. The pool fills in the background after the first create (or at once with
    /// [`Dyad::fill_setup_pool`]), one setup at a time over one batch connection, and refills
    /// as setups are used. Each setup is this client's half, in memory only, used for one key at
    /// most. `0` (the default): no pool.
    pub fn setup_pool(mut self, n: usize) -> Self {
        self.pool = n;
        self
    }

    /// The client.
    pub fn build(self) -> Dyad {
        let mut dyad = Dyad::with_http(&self.url, &self.api_key, self.http.unwrap_or_else(http::default_client));
        dyad.pinned = self.pinned;
        dyad.pool = (self.pool > 0).then(|| setup_pool::SetupPool::new(self.pool));
        dyad
    }
}

impl Dyad {
    /// A client for the server at `url` (e.g. `http://127.0.0.1:8080`) with an app's API key.
    pub fn new(url: &str, api_key: &str) -> Self {
        Self::with_http(url, api_key, http::default_client())
    }

    /// Like [`Dyad::new`] but reusing an HTTP client (connection pool) across many `Dyad`s.
    /// Build it like [`default_client`]: no redirects (the API key must not follow one to
    /// another host) and timeouts.
    pub fn with_http(url: &str, api_key: &str, http: reqwest::Client) -> Self {
        Self {
            api: http::Api::new(url, api_key, http),
            pinned: None,
            server_key: OnceCell::new(),
            wallets: Mutex::new(Vec::new()),
            pool: None,
        }
    }

    /// A builder for a client of the server at `url` with an app's API key, for the options
    /// [`Dyad::new`] does not take (a setup pool, a pinned key, a shared HTTP client).
    pub fn builder(url: &str, api_key: &str) -> DyadBuilder {
        DyadBuilder {
            url: url.to_string(),
            api_key: Zeroizing::new(api_key.to_string()),
            http: None,
            pinned: None,
            pool: 0,
        }
    }

    /// Fill the setup pool now (waiting for a refill already running): gives how many setups
    /// are ready. `Ok(0)` for a client built without a pool.
    pub async fn fill_setup_pool(&self) -> Result<usize, SdkError> {
        match &self.pool {
            Some(pool) => pool.fill(&self.api, self.server_key().await?).await,
            None => Ok(0),
        }
    }

    /// How many key setups the pool holds ready (0 without a pool).
    pub fn setup_pool_ready(&self) -> usize {
        self.pool.as_ref().map_or(0, |p| p.len())
    }

    /// Start a key generation of `wallet_type` with `send` (the create request, given the key
    /// setup id to name), using a pooled setup when there is one: taken out of the pool first,
    /// so it is never offered twice. A server that refuses it as unavailable (reaped, or another
    /// database) has lost the rest of the pool too: the pool is emptied and the request sent
    /// again without a setup. Gives what `send` gave and the setup's half for the DKG.
    pub(crate) async fn start_keygen<T, F, Fut>(
        &self,
        wallet_type: WalletType,
        send: F,
    ) -> Result<(T, Option<dyad_mpc::KeySetup>), SdkError>
    where
        F: Fn(Option<dyad_proto::KeySetupId>) -> Fut,
        Fut: std::future::Future<Output = Result<T, SdkError>>,
    {
        let pooled = self
            .pool
            .as_ref()
            .filter(|_| wallet_type.scheme() == dyad_proto::Scheme::Dkls)
            .and_then(|pool| pool.take());
        let Some(pooled) = pooled else {
            return Ok((send(None).await?, None));
        };
        match send(Some(pooled.id)).await {
            Ok(started) => Ok((started, Some(pooled.half))),
            Err(e) if e.code() == Some(ErrorCode::KeySetupUnavailable) => {
                if let Some(pool) = &self.pool {
                    pool.clear();
                }
                Ok((send(None).await?, None))
            }
            Err(e) => Err(e),
        }
    }

    /// After a key generation (whose own work comes first): top the pool up in the background.
    pub(crate) fn refill_pool(&self, server_key: CeremonyKey) {
        if let Some(pool) = &self.pool {
            pool.refill_in_background(&self.api, server_key);
        }
    }

    /// Pin the server's ceremony public key (as `dyad serve` prints it) instead of trusting
    /// what `/v1/info` says. Ceremonies are encrypted to this key only, so a server that does
    /// not hold it cannot take part ([`SdkError::HandshakeFailed`]); before its first ceremony
    /// the client also checks once that `/v1/info` names the same key
    /// ([`SdkError::ServerKeyMismatch`] otherwise), and `set_user_share` refuses shares made
    /// with another key. Without a pin, the key `/v1/info` names on first use is trusted: trust
    /// on first use, over the same TLS as the API.
    pub fn with_ceremony_key(mut self, key: CeremonyKey) -> Self {
        self.pinned = Some(key);
        self
    }

    /// The ceremony key this client encrypts to: the one `/v1/info` names, which must equal the
    /// pinned key if there is one. Fetched once per client.
    pub async fn verify_ceremony_key(&self) -> Result<CeremonyKey, SdkError> {
        self.server_key().await
    }

    /// `GET /v1/info`.
    pub async fn info(&self) -> Result<InfoResponse, SdkError> {
        self.api.call::<(), _>(Method::GET, "/v1/info", &[], None).await
    }

    async fn server_key(&self) -> Result<CeremonyKey, SdkError> {
        self.server_key
            .get_or_try_init(|| async {
                let k = self.info().await?.ceremony_public_key;
                match self.pinned {
                    Some(pinned) if pinned != k => Err(SdkError::ServerKeyMismatch {
                        pinned: pinned.to_string(),
                        presented: k.to_string(),
                    }),
                    _ => Ok(k),
                }
            })
            .await
            .copied()
    }

    /// A pinned client checks, once, that `/v1/info` names its pin before its first ceremony
    /// (loaded shares were checked against the pin when they were loaded).
    pub(crate) async fn check_before_ceremony(&self) -> Result<(), SdkError> {
        if self.pinned.is_some() {
            self.server_key().await?;
        }
        Ok(())
    }

    pub(crate) fn loaded(&self) -> std::sync::MutexGuard<'_, Vec<LoadedWallet>> {
        // A panic while holding this lock cannot leave the Vec half-updated (only push/replace).
        self.wallets.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Does a wallet exist for this identifier (of `wallet_type`, or of any type)?
    pub async fn has_pregen_wallet(
        &self,
        pregen_id: &PregenId,
        wallet_type: Option<WalletType>,
    ) -> Result<bool, SdkError> {
        let wallets = self.get_pregen_wallets(pregen_id).await?;
        Ok(wallets.iter().any(|w| wallet_type.is_none_or(|t| w.wallet_type == t)))
    }

    /// Pregenerate a wallet: runs key generation with the server and loads the new user share
    /// into this client. A second wallet of the same type for the same identifier is refused
    /// with `WALLET_EXISTS` (the error carries the existing id).
    pub async fn create_pregen_wallet(
        &self,
        wallet_type: WalletType,
        pregen_id: &PregenId,
    ) -> Result<Wallet, SdkError> {
        self.create(wallet_type, pregen_id, None).await
    }

    /// Pregenerate a wallet whose user share goes to `keep` (a vault, a file) **before** this
    /// side confirms the key to the server: the server commits the wallet only once `keep`
    /// returned `Ok`, so a created wallet always has its share kept. If `keep` fails, the
    /// ceremony is aborted and nothing is created (`SdkError::NotKept`). The share is not loaded
    /// into this client (bulk creation would otherwise hold every share in memory), except when
    /// the server's answer is lost after the confirmation (`SdkError::Unconfirmed`), as with
    /// [`create_pregen_wallet`](Self::create_pregen_wallet).
    pub async fn create_pregen_wallet_kept(
        &self,
        wallet_type: WalletType,
        pregen_id: &PregenId,
        keep: ceremony::KeepShare<'_>,
    ) -> Result<Wallet, SdkError> {
        self.create(wallet_type, pregen_id, Some(keep)).await
    }

    async fn create(
        &self,
        wallet_type: WalletType,
        pregen_id: &PregenId,
        keep: Option<ceremony::KeepShare<'_>>,
    ) -> Result<Wallet, SdkError> {
        let server_key = self.server_key().await?;
        let load = keep.is_none();
        let (ticket, setup) = self
            .start_keygen(wallet_type, |key_setup_id| async move {
                let req = CreateWalletRequest {
                    wallet_type,
                    pregen_id: pregen_id.clone(),
                    key_setup_id,
                };
                self.api
                    .call::<_, CeremonyTicket>(Method::POST, "/v1/wallets", &[], Some(&req))
                    .await
            })
            .await?;
        let socket = ceremony::socket(&self.api, &ticket);
        let generated = ceremony::generate(socket, server_key, wallet_type, pregen_id, &ticket, keep, setup).await;
        self.refill_pool(server_key);
        self.created(generated, load, &server_key)
    }

    /// A key generation's end, however its ceremony travelled: the wallet loaded (unless its
    /// share was kept elsewhere), or a share the server may have committed kept loaded.
    pub(crate) fn created(
        &self,
        generated: Result<LoadedWallet, ceremony::GenerateFailed>,
        load: bool,
        server_key: &CeremonyKey,
    ) -> Result<Wallet, SdkError> {
        match generated {
            Ok(wallet) => {
                let view = wallet.view.clone();
                if load {
                    self.loaded().push(wallet);
                }
                Ok(view)
            }
            Err(ceremony::GenerateFailed {
                error,
                kept: Some(wallet),
            }) => {
                // Possibly the only copy of a live wallet's share: keep it loaded; the error
                // names the wallet and holds no key material.
                let wallet_id = wallet.view.id;
                self.loaded().push(wallet);
                Err(SdkError::Unconfirmed {
                    wallet_id,
                    reason: error.to_string(),
                })
            }
            Err(ceremony::GenerateFailed { error, kept: None }) => Err(handshake_failure(error, server_key)),
        }
    }

    /// Pregenerate one wallet per type for one identifier, one after another; stops at the
    /// first failure (wallets made before it stay loaded).
    pub async fn create_pregen_wallet_per_type(
        &self,
        types: &[WalletType],
        pregen_id: &PregenId,
    ) -> Result<Vec<Wallet>, SdkError> {
        let mut out = Vec::with_capacity(types.len());
        for t in types {
            out.push(self.create_pregen_wallet(*t, pregen_id).await?);
        }
        Ok(out)
    }

    /// The app's wallets for an identifier.
    pub async fn get_pregen_wallets(&self, pregen_id: &PregenId) -> Result<Vec<Wallet>, SdkError> {
        let (k, v) = pregen_id.query_pair();
        let list: WalletList = self
            .api
            .call::<(), _>(Method::GET, "/v1/wallets", &[(k, v)], None)
            .await?;
        Ok(list.wallets)
    }

    /// One page of the app's wallets (oldest first), at most `limit` (1 to 1000), starting at
    /// `cursor` (a previous page's `next_cursor`); `next_cursor` is `None` on the last page.
    pub async fn list_pregen_wallets_page(
        &self,
        cursor: Option<&str>,
        limit: Option<u32>,
    ) -> Result<WalletList, SdkError> {
        let limit = limit.map(|l| l.to_string());
        let mut query: Vec<(&str, &str)> = Vec::new();
        if let Some(c) = cursor {
            query.push(("cursor", c));
        }
        if let Some(l) = &limit {
            query.push(("limit", l));
        }
        self.api.call::<(), _>(Method::GET, "/v1/wallets", &query, None).await
    }

    /// Every wallet of the app (Para's `getPregenWallets` without an identifier), following the
    /// pages to the end.
    pub async fn get_all_pregen_wallets(&self) -> Result<Vec<Wallet>, SdkError> {
        let mut out = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let page = self.list_pregen_wallets_page(cursor.as_deref(), None).await?;
            out.extend(page.wallets);
            match page.next_cursor {
                Some(next) => cursor = Some(next),
                None => return Ok(out),
            }
        }
    }

    /// One wallet of the app.
    pub async fn get_wallet(&self, id: WalletId) -> Result<Wallet, SdkError> {
        self.api
            .call::<(), _>(Method::GET, &format!("/v1/wallets/{id}"), &[], None)
            .await
    }

    /// The user share string of every wallet loaded in this client. Store it encrypted; if it
    /// is lost, so are the wallets.
    pub fn get_user_share(&self) -> Result<UserShare, SdkError> {
        let mut wallets = self.loaded();
        if wallets.is_empty() {
            return Err(SdkError::InvalidInput("no wallet is loaded in this client".into()));
        }
        // Retired through another client of this process (a signer's, say): export it so.
        for w in wallets.iter_mut() {
            w.server_misbehaved |= share_guard::is_retired(&w.server_key, w.view.id);
        }
        share::encode(wallets.iter())
    }

    /// The user share string of one loaded wallet (what a share vault keeps per wallet).
    pub fn get_user_share_of(&self, wallet_id: WalletId) -> Result<UserShare, SdkError> {
        let mut wallet = self.loaded_wallet(wallet_id)?;
        wallet.server_misbehaved |= share_guard::is_retired(&wallet.server_key, wallet_id);
        share::encode(std::iter::once(&wallet))
    }

    /// Load a user share string (exactly what `get_user_share` returned), replacing whatever
    /// was loaded. Rejects malformed, truncated, foreign and other servers' shares.
    pub async fn set_user_share(&self, user_share: &str) -> Result<(), SdkError> {
        let mut wallets = share::decode(user_share)?;
        // A pinned client compares against its pin (no network); others against `/v1/info`.
        let server_key = match self.pinned {
            Some(pinned) => pinned,
            None => self.server_key().await?,
        };
        // Retirement sticks: a share string saved before the server was caught cheating does
        // not bring the wallet back in this process, and one saved after retires it here.
        for w in wallets.iter_mut() {
            if w.server_misbehaved {
                share_guard::retire(&w.server_key, w.view.id);
            }
            w.server_misbehaved |= share_guard::is_retired(&w.server_key, w.view.id);
        }
        if let Some(w) = wallets.iter().find(|w| w.server_key != server_key) {
            return Err(SdkError::ForeignShare {
                found: w.server_key.to_string(),
                expected: server_key.to_string(),
            });
        }
        *self.loaded() = wallets;
        Ok(())
    }

    /// The wallets loaded in this client.
    pub fn loaded_wallets(&self) -> Vec<Wallet> {
        self.loaded().iter().map(|w| w.view.clone()).collect()
    }

    fn loaded_wallet(&self, id: WalletId) -> Result<LoadedWallet, SdkError> {
        self.loaded()
            .iter()
            .find(|w| w.view.id == id)
            .cloned()
            .ok_or(SdkError::WalletNotLoaded(id))
    }

    /// A loaded wallet of `wallet_type` and its group public key (no secret leaves the lock),
    /// checked: the address it claims is its key's, so a signer built on it answers to that
    /// address.
    #[cfg_attr(not(any(feature = "alloy", feature = "solana")), allow(dead_code))]
    fn loaded_key_of(
        &self,
        id: WalletId,
        wallet_type: WalletType,
    ) -> Result<(Wallet, dyad_chains::PublicKey), SdkError> {
        let (view, public_key) = self
            .loaded()
            .iter()
            .find(|w| w.view.id == id)
            .map(|w| (w.view.clone(), w.share.public_key()))
            .ok_or(SdkError::WalletNotLoaded(id))?;
        if view.wallet_type != wallet_type {
            return Err(SdkError::InvalidInput(format!(
                "wallet {id} is a {} wallet; this signer needs a {wallet_type} wallet",
                view.wallet_type
            )));
        }
        let derived = dyad_chains::address(wallet_type, &public_key, &dyad_chains::ChainConfig::default())
            .map_err(SdkError::Chain)?;
        if derived != view.address {
            return Err(SdkError::InvalidShare(format!(
                "wallet {id}: its address does not belong to its key"
            )));
        }
        Ok((view, public_key))
    }

    /// A client of the same server and app, with its own HTTP client and only `id` loaded (for
    /// a signer that runs its calls on a runtime of its own).
    #[cfg(feature = "solana")]
    fn detached(&self, id: WalletId, http: reqwest::Client) -> Result<Dyad, SdkError> {
        let wallet = self.loaded_wallet(id)?;
        let server_key = OnceCell::new();
        if let Some(key) = self.server_key.get() {
            let _ = server_key.set(*key);
        }
        Ok(Dyad {
            api: self.api.with_http(http),
            pinned: self.pinned,
            server_key,
            wallets: Mutex::new(vec![wallet]),
            // A signer creates no wallets.
            pool: None,
        })
    }

    /// Sign `message` with a loaded wallet (EVM: EIP-191; COSMOS: ADR-036; STELLAR: the SEP-53
    /// hash; SOLANA: the bytes, refused with `MESSAGE_IS_TRANSACTION` when they decode as a
    /// transaction message or wire transaction, off-chain messages as they are). The signature is verified against the wallet's key before it is
    /// returned.
    pub async fn sign_message(&self, wallet_id: WalletId, message: &[u8]) -> Result<SignResult, SdkError> {
        let signed = self.sign(wallet_id, SignCall::message(message)?, None).await?;
        Ok(SignResult::of(wallet_id, signed))
    }

    /// Sign an unsigned transaction (EVM: legacy/EIP-2930/EIP-1559 RLP with `chain_id`; SOLANA:
    /// a message or wire transaction; COSMOS: a SignDoc (direct) or amino JSON; STELLAR: an
    /// envelope with `network_passphrase`). Returns the signature and the signed transaction.
    pub async fn sign_transaction(
        &self,
        wallet_id: WalletId,
        request: &TransactionRequest,
    ) -> Result<SignedTransactionResult, SdkError> {
        let signed = self.sign(wallet_id, SignCall::transaction(request)?, None).await?;
        Ok(SignedTransactionResult::of(wallet_id, signed))
    }

    /// Sign EIP-712 typed data (the JSON `eth_signTypedData_v4` takes). EVM wallets only.
    pub async fn sign_typed_data(
        &self,
        wallet_id: WalletId,
        typed_data: &serde_json::Value,
    ) -> Result<SignResult, SdkError> {
        let signed = self.sign(wallet_id, SignCall::typed_data(typed_data)?, None).await?;
        Ok(SignResult::of(wallet_id, signed))
    }

    /// Sign a 32-byte digest as is (EVM and COSMOS wallets). Dangerous: a digest can be the
    /// hash of anything, so servers may refuse it by policy.
    pub async fn sign_raw(&self, wallet_id: WalletId, digest: impl Into<Digest>) -> Result<SignResult, SdkError> {
        let signed = self.sign(wallet_id, SignCall::raw(digest.into())?, None).await?;
        Ok(SignResult::of(wallet_id, signed))
    }

    /// Start a sign ceremony (at its sign route, or on a lane of `via`) and run it for
    /// `call.request`. One ceremony of a share at a time in this process, and none once its
    /// server was caught cheating.
    pub(crate) async fn sign(
        &self,
        wallet_id: WalletId,
        call: SignCall,
        via: Option<&Batch<'_>>,
    ) -> Result<dyad_chains::SignedTransaction, SdkError> {
        let wallet = self.loaded_wallet(wallet_id)?;
        let _asked = self.before_ceremony(&wallet).await?;
        // Taken once the server holds the wallet's lease (its `Go`), not before the request: the
        // next request's round trip, checks and audit then overlap the running ceremony.
        let turn = self.ceremony_turn(&wallet);
        // The server decodes first (refusals get a stable code and an audit entry); this side
        // decodes again with the same code before its share takes part.
        // The key version says which share this is: an outdated one is refused by name.
        let version = wallet.view.key_version;
        let signed = match via {
            None => {
                let ticket: CeremonyTicket = self
                    .api
                    .call_with(
                        Method::POST,
                        &format!("/v1/wallets/{wallet_id}/{}", call.route.segment()),
                        &[],
                        Some(&call.body),
                        &[("dyad-key-version", version.to_string())],
                    )
                    .await?;
                let socket = ceremony::socket(&self.api, &ticket);
                ceremony::sign(socket, &wallet, &ticket, &call.request, turn).await
            }
            Some(batch) => {
                // Before the server is asked: its channel is with one ceremony key.
                if batch.server_key() != wallet.server_key {
                    return Err(SdkError::Mismatch(
                        "the wallet's share is for another server than this batch connection's",
                    ));
                }
                let (ticket, lane) = batch.sign_lane(wallet_id, version, call.route, call.body).await?;
                ceremony::sign(std::future::ready(Ok(lane)), &wallet, &ticket, &call.request, turn).await
            }
        }
        .map_err(|e| handshake_failure(e, &wallet.server_key));
        self.retire_if_caught(&wallet, signed)
    }

    /// Before asking the server for a ceremony of `wallet`'s share: wait for a place among the
    /// share's asks ([`share_guard::ask`]; hold it until the ceremony ends), refuse a share whose
    /// server was caught cheating (and retire it here), and check a pinned server key.
    pub(crate) async fn before_ceremony(&self, wallet: &LoadedWallet) -> Result<share_guard::ShareAsk, SdkError> {
        let asked = share_guard::ask(&wallet.server_key, wallet.view.id).await;
        self.refuse_retired(wallet)?;
        self.check_before_ceremony().await?;
        Ok(asked)
    }

    /// The share's turn (one ceremony per share in this process), taken once the server said the
    /// ceremony holds the wallet's lease; refused if a ceremony ahead in the queue caught the
    /// server cheating. Held until the ceremony ends ([`share_guard::ShareTurn::end`]).
    pub(crate) async fn ceremony_turn(&self, wallet: &LoadedWallet) -> Result<share_guard::ShareTurn, SdkError> {
        let turn = share_guard::turn(&wallet.server_key, wallet.view.id).await;
        self.refuse_retired(wallet)?;
        Ok(turn)
    }

    fn refuse_retired(&self, wallet: &LoadedWallet) -> Result<(), SdkError> {
        let id = wallet.view.id;
        if wallet.server_misbehaved || share_guard::is_retired(&wallet.server_key, id) {
            self.retire(wallet);
            return Err(SdkError::server_misbehaved(
                id,
                "the server misbehaved in an earlier ceremony of this wallet",
            ));
        }
        Ok(())
    }

    /// What a ceremony of `wallet`'s share ended with, the wallet retired in this client (so in
    /// every share string it exports) if it caught the server cheating. The process-wide
    /// retirement, which no ceremony queued behind may miss, was made as its turn ended.
    pub(crate) fn retire_if_caught<T>(&self, wallet: &LoadedWallet, ended: Result<T, SdkError>) -> Result<T, SdkError> {
        if let Err(SdkError::ServerMisbehaved { .. }) = &ended {
            self.retire(wallet);
        }
        ended
    }

    /// Retire a wallet for good: in this process, and in every share string this client exports.
    fn retire(&self, wallet: &LoadedWallet) {
        share_guard::retire(&wallet.server_key, wallet.view.id);
        if let Some(w) = self.loaded().iter_mut().find(|w| w.view.id == wallet.view.id) {
            w.server_misbehaved = true;
        }
    }

    /// Change who a pregenerated wallet is for. The loaded share (if this client holds the
    /// wallet) is updated too, so call `get_user_share` afterwards and store the new string.
    pub async fn update_pregen_wallet_identifier(
        &self,
        wallet_id: WalletId,
        new_pregen_id: &PregenId,
    ) -> Result<Wallet, SdkError> {
        let req = UpdateWalletRequest {
            pregen_id: new_pregen_id.clone(),
        };
        let view: Wallet = self
            .api
            .call(Method::PATCH, &format!("/v1/wallets/{wallet_id}"), &[], Some(&req))
            .await?;
        if let Some(w) = self.loaded().iter_mut().find(|w| w.view.id == wallet_id) {
            w.view = view.clone();
        }
        Ok(view)
    }
}

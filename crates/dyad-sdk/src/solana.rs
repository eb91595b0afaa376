//! Solana's [`Signer`] for a Dyad SOLANA wallet (cargo feature `solana`).
//!
//! [`DyadSolanaSigner`] plugs a Dyad wallet into the Solana crates' signing calls
//! (`Transaction::try_sign`, `try_partial_sign`, `VersionedTransaction::try_new`, …):
//!
//! ```no_run
//! # fn demo(dyad: &dyad_sdk::Dyad, wallet_id: dyad_sdk::WalletId, blockhash: solana_hash::Hash)
//! #     -> Result<(), Box<dyn std::error::Error>> {
//! use dyad_sdk::solana::DyadSolanaSigner;
//! use solana_signer::Signer;
//! use solana_transaction::Transaction;
//!
//! let signer = DyadSolanaSigner::new(dyad, wallet_id)?; // a SOLANA wallet loaded in `dyad`
//! let payer = signer.try_pubkey()?;
//! let to = solana_pubkey::Pubkey::new_from_array([7; 32]);
//! let transfer = solana_system_interface::instruction::transfer(&payer, &to, 1_000);
//! let mut tx = Transaction::new_with_payer(&[transfer], Some(&payer));
//! tx.try_sign(&[&signer], blockhash)?;                   // one ceremony with the server
//! # Ok(()) }
//! ```
//!
//! # Sync over async
//!
//! Solana's `Signer` is synchronous and the SDK is async. So that calling it can neither
//! deadlock nor panic, whether from plain code or from inside a tokio runtime, the signer owns a
//! worker thread with a current-thread runtime of its own and a client of its own (same server,
//! API key and wallet, its own HTTP connections): a call hands the message to the worker and
//! blocks until the signature comes back. Nothing it waits for runs on the caller's runtime.
//! Still, a call blocks its thread for a whole ceremony (a few network round trips), so in async
//! code prefer `tokio::task::spawn_blocking`, or [`Dyad::sign_transaction`] directly. (In tests
//! where the Dyad server runs on the caller's runtime, that runtime needs another thread to
//! serve the ceremony.)
//!
//! # What is signed
//!
//! `try_sign_message` is given a transaction message (that is all the Solana crates ask a signer
//! to sign) and signs it through [`Dyad::sign_transaction`]: the server decodes the message,
//! audits what it does, and co-signs only if the wallet is one of its signers. Bytes that are not
//! a legacy or v0 message are refused; sign arbitrary off-chain bytes with
//! [`Dyad::sign_message`]. Every signature is verified against the wallet's key before it is
//! returned.

use std::fmt;
use std::sync::mpsc;
use std::time::Duration;

use dyad_chains::{PublicKey, SignInput, Signature as MpcSignature};
use solana_pubkey::Pubkey;
use solana_signature::Signature;
use solana_signer::{Signer, SignerError};

use crate::{Dyad, SdkError, TransactionRequest, WalletId, WalletType};

/// How long a call waits for the worker before giving up. A ceremony has its own deadline and
/// HTTP calls time out sooner; this only bounds the wait if something below does not.
const CALL_DEADLINE: Duration = Duration::from_secs(180);

/// A message to sign and where the answer goes.
struct Job {
    message: Vec<u8>,
    reply: mpsc::SyncSender<Result<Vec<u8>, SdkError>>,
}

/// A SOLANA wallet loaded in a [`Dyad`] client, as a Solana [`Signer`].
///
/// It keeps its own copy of the wallet (its user share, wiped on drop) as it was when the signer
/// was made, and a worker thread that stops when the signer is dropped.
pub struct DyadSolanaSigner {
    wallet_id: WalletId,
    pubkey: Pubkey,
    public_key: PublicKey,
    jobs: mpsc::Sender<Job>,
}

impl fmt::Debug for DyadSolanaSigner {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DyadSolanaSigner")
            .field("wallet_id", &self.wallet_id)
            .field("pubkey", &self.pubkey)
            .finish_non_exhaustive()
    }
}

impl DyadSolanaSigner {
    /// A signer for `wallet_id`, which must be a SOLANA wallet loaded in `dyad` (created by it
    /// or loaded with [`Dyad::set_user_share`]).
    ///
    /// The public key is the wallet's key share's and must match the address the wallet claims
    /// ([`SdkError::InvalidShare`] otherwise). Starts the signer's worker thread.
    pub fn new(dyad: &Dyad, wallet_id: WalletId) -> Result<Self, SdkError> {
        let (_, public_key) = dyad.loaded_key_of(wallet_id, WalletType::Solana)?;
        let PublicKey::Ed25519(key) = public_key else {
            return Err(SdkError::InvalidShare(format!(
                "wallet {wallet_id}: a SOLANA wallet has an Ed25519 key"
            )));
        };
        let client = dyad.detached(wallet_id, worker_http_client())?;
        let (jobs, inbox) = mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name(format!("dyad-solana-signer-{wallet_id}"))
            .spawn(move || work(client, wallet_id, inbox))
            .map_err(|e| SdkError::InvalidInput(format!("cannot start the signer's thread: {e}")))?;
        Ok(Self {
            wallet_id,
            pubkey: Pubkey::new_from_array(key),
            public_key,
            jobs,
        })
    }

    /// The wallet this signer signs with.
    pub fn wallet_id(&self) -> WalletId {
        self.wallet_id
    }

    /// Sign a Solana message (legacy or v0, as `Message::serialize` produces it) and return the
    /// 64-byte signature; the same as [`Signer::try_sign_message`] with the SDK's error.
    pub fn sign_message_bytes(&self, message: &[u8]) -> Result<Signature, SdkError> {
        // Decode here first: a wire transaction would be signed (its message) by the server and
        // then fail the check below, after a ceremony and an audit entry for nothing.
        let address = dyad_chains::solana::address(&self.public_key).map_err(SdkError::Chain)?;
        let account = dyad_chains::Account {
            wallet_type: WalletType::Solana,
            public_key: &self.public_key,
            address: &address,
        };
        let request = TransactionRequest {
            bytes: message.to_vec(),
            chain_id: None,
            network_passphrase: None,
            cosmos_sign_mode: None,
        };
        let prepared = dyad_chains::transaction::prepare(account, &request).map_err(SdkError::Chain)?;
        if prepared.input != SignInput::Message(message.to_vec()) {
            return Err(SdkError::InvalidInput(
                "try_sign_message takes a message's bytes, not a wire transaction".into(),
            ));
        }
        let (reply, answer) = mpsc::sync_channel(1);
        self.jobs
            .send(Job {
                message: message.to_vec(),
                reply,
            })
            .map_err(|_| SdkError::Http("the signer's worker thread has stopped".into()))?;
        let signature = match answer.recv_timeout(CALL_DEADLINE) {
            Ok(result) => result?,
            Err(mpsc::RecvTimeoutError::Timeout) => {
                return Err(SdkError::Http("the signature did not arrive in time".into()))
            }
            Err(mpsc::RecvTimeoutError::Disconnected) => {
                return Err(SdkError::Http("the signer's worker thread has stopped".into()))
            }
        };
        let signature =
            <[u8; 64]>::try_from(signature.as_slice()).map_err(|_| SdkError::Mismatch("signature length"))?;
        // The SDK verified it already; this checks the very bytes handed to Solana.
        self.public_key
            .verify(&SignInput::Message(message.to_vec()), &MpcSignature::Ed25519(signature))
            .map_err(|_| SdkError::Mismatch("the signature does not verify under the wallet's key"))?;
        Ok(Signature::from(signature))
    }
}

impl Signer for DyadSolanaSigner {
    fn try_pubkey(&self) -> Result<Pubkey, SignerError> {
        Ok(self.pubkey)
    }

    fn try_sign_message(&self, message: &[u8]) -> Result<Signature, SignerError> {
        self.sign_message_bytes(message).map_err(|e| match e {
            SdkError::Http(reason) => SignerError::Connection(reason),
            // Refused as input: not a message this wallet signs (by the server or this side).
            SdkError::Api { status: 400 | 422, .. } | SdkError::Chain(_) | SdkError::InvalidInput(_) => {
                SignerError::InvalidInput(e.to_string())
            }
            other => SignerError::Custom(other.to_string()),
        })
    }

    fn is_interactive(&self) -> bool {
        false
    }
}

/// Like [`crate::http::default_client`], without idle connections kept between calls (the
/// worker's runtime only runs while a call is in flight).
fn worker_http_client() -> reqwest::Client {
    crate::http::client_builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap_or_else(|_| reqwest::Client::new())
}

/// The worker: one current-thread runtime, one job at a time, until the signer is dropped.
fn work(client: Dyad, wallet_id: WalletId, inbox: mpsc::Receiver<Job>) {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build();
    for job in inbox {
        let result = match &runtime {
            Ok(runtime) => runtime.block_on(async {
                let request = TransactionRequest {
                    bytes: job.message,
                    chain_id: None,
                    network_passphrase: None,
                    cosmos_sign_mode: None,
                };
                client
                    .sign_transaction(wallet_id, &request)
                    .await
                    .map(|signed| signed.signature)
            }),
            Err(e) => Err(SdkError::Http(format!("cannot start the signer's runtime: {e}"))),
        };
        // The caller may have given up waiting; then nobody needs the answer.
        let _ = job.reply.send(result);
    }
}

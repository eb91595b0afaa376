//! The user share string: what `get_user_share` returns and `set_user_share` takes.
//!
//! One entry per loaded wallet, each a versioned JSON object (id, type, scheme, address, public
//! key, identifier, key version, the server's ceremony key, and the serialized share)
//! base64-encoded; entries are joined with `-` (not in the base64 alphabet). Parsing checks
//! everything it can offline: the version, that the share is a *user* share, and that it belongs
//! to the public key it claims.

use std::fmt;
use std::sync::Arc;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use dyad_mpc::{KeyShare, Role};
use dyad_proto::{CeremonyKey, WalletView};
use dyad_types::hex0x;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::error::SdkError;

const VERSION: u32 = 1;

/// A user share string. Secret: whoever holds it and an API key of the app can sign with its
/// wallets. Redacted in `Debug`, wiped on drop.
#[derive(Clone)]
pub struct UserShare(Zeroizing<String>);

impl UserShare {
    /// The string, to store (encrypted) or hand to `set_user_share`.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The wallets `set_user_share` would load from `text`, checked offline as it checks them
    /// (without asking the server), for an app that wants to look before loading.
    pub fn decode(text: &str) -> Result<Vec<LoadedWallet>, SdkError> {
        decode(text)
    }
}

impl fmt::Debug for UserShare {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "UserShare({} wallets, ..)", self.0.split('-').count())
    }
}

/// One wallet held by a client: what the server says about it, plus this side's key share.
/// Cloning it shares the one copy of the share (it is never copied; it zeroizes when the last
/// holder drops it).
#[derive(Clone)]
pub struct LoadedWallet {
    /// The wallet as the server described it.
    pub view: WalletView,
    /// The server ceremony key it was made with.
    pub server_key: CeremonyKey,
    /// The user party's share. Secret.
    pub share: Arc<KeyShare>,
    /// Set for good once the server misbehaved in a ceremony of this wallet: this share must
    /// not take part in another one (see [`SdkError::ServerMisbehaved`]).
    pub server_misbehaved: bool,
    /// A claim this side confirmed whose outcome it could not learn: the new share (and its
    /// recovery secret) is kept beside the old one until the server says which is live (the
    /// next `claim_pregen_wallets` reads it back). Secret.
    pub pending_claim: Option<PendingClaim>,
}

/// The new half of a claim whose commit this side could not confirm. Secret: redacted in
/// `Debug`, wiped on drop.
#[derive(Clone)]
pub struct PendingClaim {
    /// The refreshed user share.
    pub share: Arc<KeyShare>,
    /// The recovery secret the claim gave.
    pub recovery_secret: dyad_proto::RecoverySecret,
}

impl fmt::Debug for PendingClaim {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PendingClaim(..)")
    }
}

impl fmt::Debug for LoadedWallet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoadedWallet")
            .field("view", &self.view)
            .field("server_misbehaved", &self.server_misbehaved)
            .field("pending_claim", &self.pending_claim.is_some())
            .finish_non_exhaustive()
    }
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct Entry {
    v: u32,
    #[serde(flatten)]
    view: WalletView,
    server_key: String,
    /// Written only when set, so shares of healthy wallets read as before.
    #[serde(default, skip_serializing_if = "is_false")]
    server_misbehaved: bool,
    /// Secret: wiped on drop whichever way parsing ends.
    share: Zeroizing<String>,
    /// A claim's new share whose commit was not confirmed (base64 like `share`). Secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pending_share: Option<Zeroizing<String>>,
    /// Its recovery secret's text. Secret.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pending_recovery_secret: Option<Zeroizing<String>>,
}

fn is_false(b: &bool) -> bool {
    !*b
}

fn entry_error(i: usize, what: &str) -> SdkError {
    SdkError::InvalidShare(format!("wallet {}: {what}", i + 1))
}

/// Encode loaded wallets as one share string.
pub fn encode<'a>(wallets: impl IntoIterator<Item = &'a LoadedWallet>) -> Result<UserShare, SdkError> {
    let mut parts: Vec<Zeroizing<String>> = Vec::new();
    for w in wallets {
        let entry = Entry {
            v: VERSION,
            view: w.view.clone(),
            server_key: w.server_key.to_string(),
            server_misbehaved: w.server_misbehaved,
            share: Zeroizing::new(STANDARD.encode(&*w.share.to_bytes())),
            pending_share: w
                .pending_claim
                .as_ref()
                .map(|p| Zeroizing::new(STANDARD.encode(&*p.share.to_bytes()))),
            pending_recovery_secret: w.pending_claim.as_ref().map(|p| p.recovery_secret.expose()),
        };
        let json =
            Zeroizing::new(serde_json::to_vec(&entry).map_err(|_| SdkError::InvalidShare("cannot encode".into()))?);
        parts.push(Zeroizing::new(STANDARD.encode(&*json)));
    }
    let mut out = Zeroizing::new(String::new());
    for (i, p) in parts.iter().enumerate() {
        if i > 0 {
            out.push('-');
        }
        out.push_str(p);
    }
    Ok(UserShare(out))
}

/// Parse a share string into wallets, checking each entry offline.
pub fn decode(s: &str) -> Result<Vec<LoadedWallet>, SdkError> {
    let s = s.trim();
    if s.is_empty() {
        return Err(SdkError::InvalidShare("the share string is empty".into()));
    }
    let mut out: Vec<LoadedWallet> = Vec::new();
    for (i, part) in s.split('-').enumerate() {
        let json = Zeroizing::new(
            STANDARD
                .decode(part)
                .map_err(|_| entry_error(i, "not base64 (truncated or not a Dyad share?)"))?,
        );
        let entry: Entry = serde_json::from_slice(&json)
            .map_err(|_| entry_error(i, "not a Dyad wallet share (truncated, or from another system)"))?;
        if entry.v != VERSION {
            return Err(entry_error(i, &format!("unsupported share version {}", entry.v)));
        }
        let share_bytes = Zeroizing::new(
            STANDARD
                .decode(&entry.share)
                .map_err(|_| entry_error(i, "share field is not base64"))?,
        );
        let share = KeyShare::from_bytes(&share_bytes).map_err(|_| entry_error(i, "key share does not parse"))?;
        if share.role() != Role::User {
            return Err(entry_error(i, "this is not a user share"));
        }
        if share.scheme() != entry.view.scheme || entry.view.wallet_type.scheme() != share.scheme() {
            return Err(entry_error(i, "scheme does not match the wallet type"));
        }
        let pk_hex = hex0x::encode(share.public_key().as_bytes());
        if pk_hex != entry.view.public_key {
            return Err(entry_error(i, "key share does not belong to the wallet's public key"));
        }
        let server_key: CeremonyKey = entry
            .server_key
            .parse()
            .map_err(|_| entry_error(i, "server key is not 32 bytes of hex"))?;
        if out.iter().any(|w| w.view.id == entry.view.id) {
            return Err(entry_error(i, "the same wallet appears twice"));
        }
        let pending_claim = match (&entry.pending_share, &entry.pending_recovery_secret) {
            (None, None) => None,
            (Some(next), Some(secret)) => {
                let bytes = Zeroizing::new(
                    STANDARD
                        .decode(next)
                        .map_err(|_| entry_error(i, "pending share is not base64"))?,
                );
                let next = KeyShare::from_bytes(&bytes).map_err(|_| entry_error(i, "pending share does not parse"))?;
                if next.role() != Role::User || next.public_key() != share.public_key() {
                    return Err(entry_error(i, "pending share is not of this wallet's key"));
                }
                let recovery_secret = dyad_proto::RecoverySecret::parse(secret)
                    .ok_or_else(|| entry_error(i, "pending recovery secret does not parse"))?;
                Some(PendingClaim {
                    share: Arc::new(next),
                    recovery_secret,
                })
            }
            _ => return Err(entry_error(i, "a pending claim needs both its share and its secret")),
        };
        out.push(LoadedWallet {
            view: entry.view,
            server_key,
            share: Arc::new(share),
            server_misbehaved: entry.server_misbehaved,
            pending_claim,
        });
    }
    Ok(out)
}

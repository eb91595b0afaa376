//! Ceremonies as authorised: what each will do, fixed before its WebSocket connects.

use dyad_chains::SignRequest;
use dyad_proto::{CeremonyId, WalletId};
use sha2::{Digest, Sha256};

use super::{Actor, Scope};

/// What the database keeps instead of a ceremony id: SHA-256 of it, so a leaked database
/// cannot join a ceremony.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct CeremonyHash(pub [u8; 32]);

impl CeremonyHash {
    /// The hash of `id`.
    pub fn of(id: &CeremonyId) -> Self {
        Self(Sha256::digest(id.0).into())
    }
}

/// What a started ceremony will do, fixed when it is authorised.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CeremonyKind {
    /// Key generation for a pending wallet.
    Dkg,
    /// Sign exactly this request (fixed, decoded and audited when it was authorised).
    Sign(AuthorisedSign),
    /// Rotate a pregenerated wallet's shares and hand it to the person (the record's actor).
    Claim,
}

/// A sign request as it was authorised: the request, and what it decoded to then (as the
/// `sign.requested` audit entry records it). The ceremony refuses to sign if the request now
/// decodes to anything else (say, a replica running other chain code).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AuthorisedSign {
    /// The request.
    pub request: SignRequest,
    /// `dyad_chains::describe_input` of what it decoded to when authorised.
    pub signs: String,
}

/// A started, not yet used ceremony.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CeremonyRecord {
    /// SHA-256 of the ceremony id.
    pub id_hash: CeremonyHash,
    /// The app (and environment) it runs through: where its audit entries go.
    pub scope: Scope,
    /// Who it acts for: the app, or a person (by a session).
    pub actor: Actor,
    /// The wallet.
    pub wallet_id: WalletId,
    /// What it does.
    pub kind: CeremonyKind,
    /// Unix seconds after which it is refused.
    pub expires_at: i64,
}

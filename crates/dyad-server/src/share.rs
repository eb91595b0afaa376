//! The cloud share of a live wallet, opened: what a sign or claim ceremony holding the
//! wallet's lease takes part with. It must not be sent, logged or kept beyond the ceremony.
//!
//! What is kept is public: an Ed25519 share's public key package (both verifying shares and the
//! group key), decoded once per wallet and key version ([`PUBLIC_PACKAGES`]), since checking
//! its points is most of the cost of opening the share at every signature.

use std::sync::LazyLock;

use dyad_mpc::{KeyShare, PublicPackages};

use crate::error::ServerError;
use crate::model::Wallet;
use crate::state::AppState;

/// Open `wallet`'s sealed cloud share at its current key version (the AAD binds wallet id and
/// version, so a row moved from another wallet or version does not open).
pub async fn open(state: &AppState, wallet: &Wallet) -> Result<KeyShare, ServerError> {
    let sealed = state
        .store
        .cloud_share(wallet.id, wallet.key_version)
        .await?
        .ok_or_else(|| ServerError::Internal("wallet without a cloud share".into()))?;
    let plain = state
        .data_key
        .open_share(&wallet.id, wallet.key_version, &sealed.sealed)?;
    KeyShare::from_bytes_with(&plain, &PUBLIC_PACKAGES)
        .map_err(|_| ServerError::Internal("stored cloud share does not parse".into()))
}

/// The public key packages of the Ed25519 shares this process has opened (public data only; a
/// share read with one still checks its secret against it). One per process: the packages of
/// every server in it are the same kind of public data, each keyed by its own bytes.
static PUBLIC_PACKAGES: LazyLock<PublicPackages> = LazyLock::new(PublicPackages::new);

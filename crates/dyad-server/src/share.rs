//! The cloud share of a live wallet, opened: what a sign or claim ceremony holding the
//! wallet's lease takes part with. It must not be sent, logged or kept beyond the ceremony.

use dyad_mpc::KeyShare;

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
    KeyShare::from_bytes(&plain).map_err(|_| ServerError::Internal("stored cloud share does not parse".into()))
}

//! Signing, cloud side: open the sealed cloud share, sign exactly the request that was
//! authorised when the ceremony was started (decoded again here by the same code), check the
//! result with the standard verifier, and report it in the chain's forms.

use dyad_chains::describe_input;
use dyad_mpc::{KeyShare, MpcError, Sign};
use dyad_proto::{session_id, CeremonyChannel, CeremonyId, Frame, Outcome, ProtoError};
use serde_json::json;
use sha2::{Digest, Sha256};

use super::transport::AxumSocket;
use crate::audit;
use crate::error::ServerError;
use crate::state::AppState;
use crate::store::{AuthorisedSign, CeremonyRecord};

/// Run a sign ceremony for `request`.
pub async fn run(
    state: &AppState,
    id: &CeremonyId,
    record: &CeremonyRecord,
    authorised: &AuthorisedSign,
    channel: &mut CeremonyChannel<AxumSocket>,
) -> Result<(), ServerError> {
    let request = &authorised.request;
    let wallet = state
        .store
        .wallet(record.scope, record.wallet_id)
        .await?
        .ok_or(ServerError::WalletNotFound)?;
    if let Some(refusal) = wallet.signing_refusal() {
        return Err(refusal);
    }
    let signer = wallet.signer()?;
    let prepared = request.prepare(signer)?;
    if describe_input(&prepared.input) != authorised.signs {
        return Err(ServerError::CeremonyAborted(
            "the request no longer decodes to what was authorised; start a new one".into(),
        ));
    }
    let sealed = state
        .store
        .cloud_share(wallet.id, wallet.key_version)
        .await?
        .ok_or_else(|| ServerError::Internal("wallet without a cloud share".into()))?;
    let plain = state
        .data_key
        .open_share(&wallet.id, wallet.key_version, &sealed.sealed)?;
    let share =
        KeyShare::from_bytes(&plain).map_err(|_| ServerError::Internal("stored cloud share does not parse".into()))?;
    drop(plain);

    let sid = session_id(id, "sign");
    let machine_input = prepared.input.clone();
    let signature = match channel.run(move || Sign::start(&share, &sid, &machine_input)).await {
        Ok(s) => s,
        // DKLs says: after a cheating peer, never sign with this share pair again (its OT state
        // may have leaked). Lock before answering so no retry can slip in.
        Err(ProtoError::Mpc(MpcError::PeerMisbehaved(why))) => {
            let entry = audit::entry(record.scope, Some(wallet.id), "wallet.locked", json!({ "reason": why }));
            state.store.lock_wallet(wallet.id, &entry).await?;
            return Err(ServerError::WalletLocked);
        }
        Err(e) => return Err(e.into()),
    };
    signer.public_key.verify(&prepared.input, &signature).map_err(|_| {
        ServerError::CeremonyAborted("signature did not verify: the share does not match this wallet".into())
    })?;
    let signed = request.finish(signer, &signature)?;

    state
        .store
        .audit(&audit::entry(
            record.scope,
            Some(wallet.id),
            "sign.completed",
            json!({
                "operation": request.operation(),
                "signature": format!("0x{}", hex::encode(&signed.signature)),
                "signedTransactionSha256": signed
                    .signed_transaction
                    .as_ref()
                    .map(|t| format!("0x{}", hex::encode(Sha256::digest(t)))),
            }),
        ))
        .await?;
    channel.send(&Frame::Done(Outcome::Signed(signed))).await?;
    Ok(())
}

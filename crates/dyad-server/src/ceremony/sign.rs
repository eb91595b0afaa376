//! Signing, cloud side: open the sealed cloud share, sign exactly the request that was
//! authorised when the ceremony was started (decoded again here by the same code), check the
//! result with the standard verifier, record it, and only then let the client finish.
//!
//! The server holds back its last protocol frame until it has the client's, has computed and
//! verified the signature and has audited `sign.completed`: the client cannot assemble a
//! signature that the audit log does not record as made.

use dyad_chains::describe_input;
use dyad_mpc::{KeyShare, MpcError, Sign};
use dyad_proto::{session_id, CeremonyChannel, CeremonyId, Frame, Outcome, ProtoError};
use serde_json::json;
use sha2::{Digest, Sha256};

use super::transport::AxumSocket;
use crate::audit;
use crate::clock;
use crate::error::ServerError;
use crate::lease::LeaseGuard;
use crate::state::AppState;
use crate::store::{AuthorisedSign, CeremonyRecord};

/// How a sign ceremony ended, for its caller to record.
pub(super) enum Ended {
    /// Signed, audited and reported.
    Signed,
    /// Failed; nothing was signed (or nothing the client can assemble).
    Failed(ServerError),
    /// DKLs caught the peer cheating in the multiplication (`BanCounterparty`): the share pair
    /// must be locked before the lease goes back.
    PeerCheated(String),
}

/// Run a sign ceremony for `authorised`, holding the wallet's `lease`.
pub(super) async fn run(
    state: &AppState,
    id: &CeremonyId,
    record: &CeremonyRecord,
    authorised: &AuthorisedSign,
    channel: &mut CeremonyChannel<AxumSocket>,
    lease: &LeaseGuard,
) -> Ended {
    match sign(state, id, record, authorised, channel, lease).await {
        Ok(ended) => ended,
        Err(e) => Ended::Failed(e),
    }
}

async fn sign(
    state: &AppState,
    id: &CeremonyId,
    record: &CeremonyRecord,
    authorised: &AuthorisedSign,
    channel: &mut CeremonyChannel<AxumSocket>,
    lease: &LeaseGuard,
) -> Result<Ended, ServerError> {
    let request = &authorised.request;
    // Read after the lease was taken: a lock decided while this ceremony waited is seen here.
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
    let (signature, held) = match channel
        .run_holding_last(move || Sign::start(&share, &sid, &machine_input))
        .await
    {
        Ok(done) => done,
        // DKLs says: after a cheating peer, never sign with this share pair again (its OT state
        // may have leaked).
        Err(ProtoError::Mpc(MpcError::PeerMisbehaved(why))) => return Ok(Ended::PeerCheated(why)),
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
                // The ceremony's turn: from taking the wallet's lease to this record.
                "startedAtMicros": lease.acquired_at_micros(),
                "finishedAtMicros": clock::now_micros(),
            }),
        ))
        .await?;
    // Recorded as made: from here on, a lost connection loses only the client's copy.
    let delivered = async {
        channel.release(held).await?;
        channel.send(&Frame::Done(Outcome::Signed(signed))).await
    };
    if let Err(e) = delivered.await {
        tracing::info!(wallet = %wallet.id, error = %e, "a signature was made but not delivered");
    }
    Ok(Ended::Signed)
}

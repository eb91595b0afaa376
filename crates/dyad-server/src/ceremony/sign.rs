//! Signing, cloud side: open the sealed cloud share, sign exactly the request that was
//! authorised when the ceremony was started (decoded again here by the same code), check the
//! result with the standard verifier, record it, and only then let the client finish.
//!
//! The server holds back its last protocol frame until it has the client's, has computed and
//! verified the signature and has audited `sign.completed`: the client cannot assemble a
//! signature that the audit log does not record as made.

use dyad_chains::{describe_input, SignedTransaction};
use dyad_mpc::{KeyShare, MpcError, Sign};
use dyad_proto::{session_id, CeremonyChannel, CeremonyId, Frame, HeldFrame, Outcome, ProtoError};
use serde_json::json;
use sha2::{Digest, Sha256};

use super::transport::AxumSocket;
use crate::audit;
use crate::error::ServerError;
use crate::state::AppState;
use crate::store::{AuditRecord, AuthorisedSign, CeremonyRecord};

/// How a sign ceremony ended, for its caller to record.
pub(super) enum Ended {
    /// Signed and verified; the client cannot finish until [`Decided::deliver`].
    Decided(Box<Decided>),
    /// Failed; nothing was signed (or nothing the client can assemble).
    Failed(ServerError),
    /// DKLs caught the peer cheating in the multiplication (`BanCounterparty`): the share pair
    /// must be locked before the lease goes back.
    PeerCheated(String),
}

/// A verified signature, not yet recorded or delivered.
pub(super) struct Decided {
    record: CeremonyRecord,
    operation: &'static str,
    signed: SignedTransaction,
    held: HeldFrame,
}

impl Decided {
    /// The `sign.completed` entry for it, with the ceremony's turn (microseconds).
    pub(super) fn completed(&self, started_at: i64, finished_at: i64) -> AuditRecord {
        audit::entry(
            self.record.scope,
            Some(self.record.wallet_id),
            "sign.completed",
            json!({
                "operation": self.operation,
                "signature": format!("0x{}", hex::encode(&self.signed.signature)),
                "signedTransactionSha256": self
                    .signed
                    .signed_transaction
                    .as_ref()
                    .map(|t| format!("0x{}", hex::encode(Sha256::digest(t)))),
                "startedAtMicros": started_at,
                "finishedAtMicros": finished_at,
            }),
        )
    }

    /// Let the client finish: our last round, then the signature in the chain's forms.
    pub(super) async fn deliver(self, channel: &mut CeremonyChannel<AxumSocket>) -> Result<(), ProtoError> {
        channel.release(self.held).await?;
        channel.send(&Frame::Done(Outcome::Signed(self.signed))).await
    }
}

/// Run a sign ceremony for `authorised` (its caller holds the wallet's lease), up to a verified
/// signature.
pub(super) async fn run(
    state: &AppState,
    id: &CeremonyId,
    record: &CeremonyRecord,
    authorised: &AuthorisedSign,
    channel: &mut CeremonyChannel<AxumSocket>,
) -> Ended {
    match sign(state, id, record, authorised, channel).await {
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
        Err(ProtoError::PeerRound(MpcError::PeerMisbehaved(why))) => return Ok(Ended::PeerCheated(why)),
        Err(e) => return Err(e.into()),
    };
    signer.public_key.verify(&prepared.input, &signature).map_err(|_| {
        ServerError::CeremonyAborted("signature did not verify: the share does not match this wallet".into())
    })?;
    let signed = request.finish(signer, &signature)?;
    Ok(Ended::Decided(Box::new(Decided {
        record: record.clone(),
        operation: request.operation(),
        signed,
        held,
    })))
}

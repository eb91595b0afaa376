//! Claiming pregenerated wallets (Para's `claimPregenWallets`), the person's side: for each
//! loaded wallet whose identifier the session verified, the claim ceremony
//! ([`dyad_proto::Claim`]) rotates the shares: same address, a new user share loaded here, the
//! app's copy dead once the server commits, and a recovery secret shown once.
//!
//! The old share is dropped only once this side knows the new pair is the live one: from the
//! server's `Done`, or, when that was lost, from reading the wallet back. A claim cut short
//! before the commit leaves the old share loaded and working; retrying runs a new claim.

use std::sync::Arc;

use dyad_mpc::{KeyShare, Role};
use dyad_proto::rest::CeremonyTicket;
use dyad_proto::FrameTransport;
use dyad_proto::{Claim, Frame, Outcome, PregenId, ProtoError, RecoverySecret, WalletStatus, WalletView};
use dyad_types::hex0x;
use reqwest::Method;

use crate::ceremony::{self, CEREMONY_BACKSTOP};
use crate::error::SdkError;
use crate::share::{LoadedWallet, PendingClaim};
use crate::Dyad;

/// A wallet claimed by this client's person: as it is now (status `claimed`, the new key
/// version) and the recovery secret the claim gave, shown once: store it where the person can
/// find it; Dyad keeps only a hash.
#[derive(Debug)]
pub struct ClaimedWallet {
    /// The wallet.
    pub wallet: WalletView,
    /// The recovery secret. Secret.
    pub recovery_secret: RecoverySecret,
}

impl Dyad {
    /// Claim every loaded wallet whose identifier is one the session verified (or only those
    /// for `identifier`). Each is claimed in its own ceremony, one after another; the new user
    /// shares replace the old ones in this client (store `get_user_share()` again). Stops at
    /// the first failure; wallets claimed before it stay claimed and loaded, and the error is
    /// then [`SdkError::PartlyClaimed`], which carries their recovery secrets (shown once: a
    /// plain error would lose them).
    pub async fn claim_pregen_wallets(&self, identifier: Option<&PregenId>) -> Result<Vec<ClaimedWallet>, SdkError> {
        self.require_session()?;
        let session = self.session().await?;
        let candidates: Vec<LoadedWallet> = self
            .loaded()
            .iter()
            .filter(|w| w.view.status == WalletStatus::Pregen)
            .filter(|w| session.identifiers.contains(&w.view.pregen_id))
            .filter(|w| identifier.is_none_or(|i| *i == w.view.pregen_id))
            .cloned()
            .collect();
        if candidates.is_empty() {
            return Err(SdkError::InvalidInput(
                "no loaded pregenerated wallet is for an identifier this session verified".into(),
            ));
        }
        let mut out = Vec::with_capacity(candidates.len());
        for wallet in candidates {
            match self.claim_one(&wallet).await {
                Ok(claimed) => out.push(claimed),
                Err(error) if out.is_empty() => return Err(error),
                Err(error) => {
                    return Err(SdkError::PartlyClaimed {
                        claimed: out,
                        error: Box::new(error),
                    })
                }
            }
        }
        Ok(out)
    }

    async fn claim_one(&self, wallet: &LoadedWallet) -> Result<ClaimedWallet, SdkError> {
        let _asked = self.before_ceremony(wallet).await?;
        if let Some(pending) = &wallet.pending_claim {
            // Under the share's turn, though no lease is held: only a read of the wallet
            // happens while it is held, so a ceremony whose lease waits on it waits for no one.
            let turn = self.ceremony_turn(wallet).await?;
            let resolved = self.resolve_pending(wallet, pending).await;
            drop(turn);
            if let Some(claimed) = resolved? {
                return Ok(claimed);
            }
        }
        let id = wallet.view.id;
        let ticket: CeremonyTicket = self
            .api
            .call::<(), _>(Method::POST, &format!("/v1/wallets/{id}/claim"), &[], None)
            .await?;
        if ticket.wallet_id != id {
            return Err(SdkError::Mismatch("the server started a claim of another wallet"));
        }
        let socket = ceremony::socket(&self.api, &ticket);
        let (mut channel, turn) =
            ceremony::connect_live(socket, &wallet.server_key, &ticket, self.ceremony_turn(wallet))
                .await
                .map_err(|e| crate::handshake_failure(e, &wallet.server_key))?;
        let mut confirmed: Option<(KeyShare, RecoverySecret)> = None;
        let result = tokio::time::timeout(CEREMONY_BACKSTOP, run(&mut channel, wallet, &ticket, &mut confirmed))
            .await
            .unwrap_or(Err(SdkError::Ceremony(ProtoError::Timeout)));
        // A refresh is a ceremony of the share like a signature: a server caught cheating in it
        // gets the share retired at once, before any wait (the goodbye, the read-back) in which
        // the caller could drop this future and pass the turn on without it. A cheat is caught
        // only before this side confirms, so `settle` cannot find one the run did not.
        turn.end(&result);
        ceremony::goodbye(channel, &result).await;
        let claimed = self.settle(wallet, result, confirmed).await;
        self.retire_if_caught(wallet, claimed)
    }

    /// An earlier claim of `wallet` whose outcome was not learnt: the server says which share is
    /// live. The claimed wallet if it was the new one; `None` if the old one still is (the
    /// unconfirmed share is forgotten, to claim anew).
    async fn resolve_pending(
        &self,
        wallet: &LoadedWallet,
        pending: &PendingClaim,
    ) -> Result<Option<ClaimedWallet>, SdkError> {
        let id = wallet.view.id;
        let now = self.get_wallet(id).await?;
        if committed(&now, wallet, &pending.share) {
            return Ok(Some(self.adopt(
                wallet,
                now,
                pending.share.clone(),
                pending.recovery_secret.clone(),
            )));
        }
        if now.status != WalletStatus::Pregen || now.key_version != wallet.view.key_version {
            return Err(SdkError::Mismatch(
                "the wallet is neither at its old nor at its claimed key",
            ));
        }
        if let Some(w) = self.loaded().iter_mut().find(|w| w.view.id == id) {
            w.pending_claim = None;
        }
        Ok(None)
    }

    /// What a claim ceremony's `result` means for the loaded wallet, given what this side
    /// `confirmed` (a new share and secret it said it holds).
    async fn settle(
        &self,
        wallet: &LoadedWallet,
        result: Result<WalletView, SdkError>,
        confirmed: Option<(KeyShare, RecoverySecret)>,
    ) -> Result<ClaimedWallet, SdkError> {
        let id = wallet.view.id;
        match (result, confirmed) {
            (Ok(view), Some((share, secret))) => Ok(self.adopt(wallet, view, Arc::new(share), secret)),
            (Ok(_), None) => Err(ProtoError::UnexpectedFrame("claimed without a new share").into()),
            (Err(e), None) => Err(crate::handshake_failure(e, &wallet.server_key)),
            // Confirmed: the server may have committed. Read the wallet back to know which
            // share is the live one; never drop the new one unless the old one still works.
            (Err(e), Some((share, secret))) => match self.get_wallet(id).await {
                Ok(now) if committed(&now, wallet, &share) => Ok(self.adopt(wallet, now, Arc::new(share), secret)),
                Ok(now) if now.status == WalletStatus::Pregen && now.key_version == wallet.view.key_version => Err(e),
                _ => {
                    if let Some(w) = self.loaded().iter_mut().find(|w| w.view.id == id) {
                        w.pending_claim = Some(PendingClaim {
                            share: Arc::new(share),
                            recovery_secret: secret,
                        });
                    }
                    Err(SdkError::ClaimUnconfirmed {
                        wallet_id: id,
                        reason: e.to_string(),
                    })
                }
            },
        }
    }

    /// Load `share` as the wallet's, now `view` on the server.
    fn adopt(
        &self,
        wallet: &LoadedWallet,
        view: WalletView,
        share: Arc<KeyShare>,
        secret: RecoverySecret,
    ) -> ClaimedWallet {
        let claimed = LoadedWallet {
            view: view.clone(),
            server_key: wallet.server_key,
            share,
            server_misbehaved: false,
            pending_claim: None,
        };
        if let Some(w) = self.loaded().iter_mut().find(|w| w.view.id == wallet.view.id) {
            *w = claimed;
        }
        ClaimedWallet {
            wallet: view,
            recovery_secret: secret,
        }
    }
}

/// Whether `now` (read from the server) is `wallet` claimed into `share`: one key version on,
/// claimed, same key.
fn committed(now: &WalletView, wallet: &LoadedWallet, share: &KeyShare) -> bool {
    now.status == WalletStatus::Claimed
        && now.key_version == wallet.view.key_version + 1
        && now.public_key == hex0x::encode(share.public_key().as_bytes())
        && now.id == wallet.view.id
}

/// The claim ceremony on this side, once the share's turn is held, up to the server's `Done`.
/// Once this side has confirmed, the new share and the secret are in `confirmed`, whatever
/// happens after.
async fn run<T: FrameTransport>(
    channel: &mut dyad_proto::CeremonyChannel<T>,
    wallet: &LoadedWallet,
    ticket: &CeremonyTicket,
    confirmed: &mut Option<(KeyShare, RecoverySecret)>,
) -> Result<WalletView, SdkError> {
    let script = Claim::new(Role::User, &ticket.ceremony_id, &wallet.share);
    let refreshed = channel
        .run(script.refresh(Arc::clone(&wallet.share)))
        .await
        .map_err(|e| SdkError::of_run(wallet.view.id, e))?;
    let (test, start) = script
        .test_signature(refreshed)
        .map_err(|_| SdkError::Mismatch("the refresh gave a share of another key"))?;
    let signature = channel
        .run(start)
        .await
        .map_err(|e| SdkError::of_run(wallet.view.id, e))?;
    let share = test
        .verify(&signature)
        .map_err(|_| SdkError::Mismatch("test signature of the new shares did not verify"))?
        .into_share();
    let secret = match channel.recv().await? {
        Frame::Recovery(secret) => secret,
        _ => return Err(ProtoError::UnexpectedFrame("expected the recovery secret").into()),
    };
    let public_key = share.public_key();
    // From here both the new share and the secret are kept: the server may commit.
    *confirmed = Some((share, secret));
    channel.send(&Frame::Confirm).await?;
    let view = match channel.recv().await? {
        Frame::Done(Outcome::Claimed(view)) => view,
        _ => return Err(ProtoError::UnexpectedFrame("expected the claimed wallet").into()),
    };
    if view.id != wallet.view.id
        || view.status != WalletStatus::Claimed
        || view.key_version != wallet.view.key_version + 1
        || view.public_key != hex0x::encode(public_key.as_bytes())
    {
        return Err(SdkError::Mismatch("the claimed wallet differs from the refreshed key"));
    }
    Ok(view)
}

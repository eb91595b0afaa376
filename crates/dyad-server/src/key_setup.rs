//! The warm setup pool, cloud side: DKLs key setups made ahead of time with an app, each for one
//! future key.
//!
//! A setup is made over a lane of the app's batch connection ([`crate::ceremony`]'s
//! `key_setup`), then [`store`]d: the cloud's half sealed like a cloud share, under the app it
//! was made with. A create request that names it reserves it in the same transaction that
//! stores the pending wallet (`Store::create_pending_wallet`); the key generation [`take`]s it
//! as it begins, which deletes it, so a setup serves at most one key whatever that run's
//! outcome. A half that could have been used twice is never used again: it is gone from the
//! store before its first use. The security argument is ARCHITECTURE.md's "The warm setup
//! pool".

use dyad_mpc::{KeySetup, Role};
use dyad_proto::batch::KeySetupTicket;
use dyad_proto::{session_id, CeremonyId, KeySetupId, Run};

use crate::clock;
use crate::error::ServerError;
use crate::model::{PendingWallet, Scope};
use crate::state::AppState;
use crate::store::{SealedShare, StoredKeySetup};

/// The most unreserved key setups one app (in one environment) may hold: each is a sealed
/// ~100 KB row, and one nobody uses is only reaped after `key_setup_ttl`.
pub const MAX_KEY_SETUPS: u64 = 1000;

/// Start a key setup for `scope`: refused once the app holds [`MAX_KEY_SETUPS`] unreserved.
pub async fn start(state: &AppState, scope: Scope) -> Result<KeySetupTicket, ServerError> {
    if state.store.key_setups_available(scope).await? >= MAX_KEY_SETUPS {
        return Err(ServerError::RateLimited(format!(
            "this app holds {MAX_KEY_SETUPS} unused key setups already; use some first"
        )));
    }
    Ok(KeySetupTicket {
        ceremony_id: CeremonyId::random(),
        key_setup_id: KeySetupId::random(),
    })
}

/// The setup ceremony gave the cloud `half`: check it is the one `ticket` started, seal it and
/// store it for `scope`. Only once this returns may the client hear that it exists.
pub async fn store(
    state: &AppState,
    scope: Scope,
    ticket: &KeySetupTicket,
    half: &KeySetup,
) -> Result<(), ServerError> {
    if half.role() != Role::Cloud || half.id() != session_id(&ticket.ceremony_id, Run::KeySetup) {
        return Err(ServerError::Internal("the key setup is not this ceremony's".into()));
    }
    let sealed = state
        .data_key
        .seal_key_setup(&ticket.key_setup_id, &scope, &half.to_bytes())?;
    let setup = StoredKeySetup {
        id: ticket.key_setup_id,
        scope,
        sealed: SealedShare {
            data_key_id: state.data_key.id(),
            sealed,
        },
        created_at: clock::now(),
    };
    Ok(state.store.put_key_setup(&setup).await?)
}

/// The key setup the create request of `pending` reserved, taken out of the store for good and
/// opened; `None` if it named none. Taken before the key generation's first message, so a
/// failed run cannot leave it to be used again.
pub async fn take(state: &AppState, pending: &PendingWallet) -> Result<Option<KeySetup>, ServerError> {
    let Some(stored) = state.store.take_key_setup(pending.id).await? else {
        return Ok(None);
    };
    if stored.scope != pending.scope {
        return Err(ServerError::Internal("a key setup was reserved across apps".into()));
    }
    let plain = state
        .data_key
        .open_key_setup(&stored.id, &stored.scope, &stored.sealed.sealed)?;
    let half =
        KeySetup::from_bytes(&plain).map_err(|_| ServerError::Internal("a stored key setup is damaged".into()))?;
    if half.role() != Role::Cloud {
        return Err(ServerError::Internal(
            "a stored key setup is not the cloud's half".into(),
        ));
    }
    Ok(Some(half))
}

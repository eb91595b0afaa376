//! A DKLs key's multiplication setup, made ahead of the key (a warm setup pool).
//!
//! Of a DKLs23 key generation, ~95% of the work is the OT setup of the two-party multiplication
//! (DKLs23 Functionality 3.5, "Init"), and that setup depends on no key: only on the two parties
//! and a session id. [`Setup`] runs it on its own, under a session id used for nothing else, and
//! gives each party a [`KeySetup`]; [`Dkg::start_with_setup`](crate::Dkg::start_with_setup) later
//! attaches it to exactly one fresh key, with the setup's id bound into the key generation's
//! session id. The security argument is ARCHITECTURE.md's "The warm setup pool".

use std::fmt;

use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::dkls::setup::Prepared;
use crate::{dkls, encoding, Machine, MpcError, Role, SessionId, Transition};

/// The storage format version written by [`KeySetup::to_bytes`].
const FORMAT_V1: u8 = 1;

/// One party's half of a DKLs multiplication setup made for one future key.
///
/// **Secret**, as secret as a key share: its OT seeds are what keep the peer from learning the
/// signing nonces of the key it is attached to. It must not be sent, logged, stored unsealed or
/// used for more than one key: it is not `Clone`, and
/// [`Dkg::start_with_setup`](crate::Dkg::start_with_setup) consumes it. `Debug` shows only its id
/// and role; the library state wipes itself on drop.
pub struct KeySetup {
    id: SessionId,
    role: Role,
    prepared: Box<Prepared>,
}

#[derive(Serialize)]
struct StoredRef<'a> {
    id: [u8; 32],
    role: Role,
    prepared: &'a Prepared,
}

#[derive(Deserialize)]
struct StoredOwned {
    id: [u8; 32],
    role: Role,
    prepared: Box<Prepared>,
}

impl KeySetup {
    /// The id of the setup run (its session id): both halves have the same one, and the key
    /// generation it is attached to binds it into its own session id.
    pub fn id(&self) -> SessionId {
        self.id
    }

    /// Which party holds this half.
    pub fn role(&self) -> Role {
        self.role
    }

    /// Serializes the half: a 1-byte format version, then postcard. **Secret**: seal it before
    /// it leaves memory. The buffer wipes itself on drop.
    pub fn to_bytes(&self) -> Zeroizing<Vec<u8>> {
        let stored = StoredRef {
            id: *self.id.as_bytes(),
            role: self.role,
            prepared: &self.prepared,
        };
        // Encoding this layout cannot fail; the fallback only keeps the path panic-free (an
        // empty encoding is refused by `from_bytes`).
        encoding::encode(FORMAT_V1, &stored).unwrap_or_default()
    }

    /// Parses what [`to_bytes`](Self::to_bytes) wrote and checks it is a usable half for a
    /// 2-of-2 key. Anything else is [`MpcError::InvalidShare`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, MpcError> {
        if bytes.first() != Some(&FORMAT_V1) {
            return Err(MpcError::InvalidShare);
        }
        let (_, stored) = encoding::decode::<StoredOwned>(bytes).ok_or(MpcError::InvalidShare)?;
        stored.prepared.validate().map_err(|_| MpcError::InvalidShare)?;
        Ok(KeySetup {
            id: SessionId::new(stored.id),
            role: stored.role,
            prepared: stored.prepared,
        })
    }

    pub(crate) fn into_parts(self) -> (SessionId, Role, Box<Prepared>) {
        (self.id, self.role, self.prepared)
    }
}

impl fmt::Debug for KeySetup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeySetup")
            .field("id", &self.id)
            .field("role", &self.role)
            .finish_non_exhaustive()
    }
}

/// The setup ceremony: one round, each party sending its half of the base OTs in both
/// directions. Output: this party's [`KeySetup`].
///
/// Holds secret round state: it must not be sent, persisted or cloned. Dropping it aborts the
/// run for good.
pub struct Setup(dkls::setup::Run);

impl Setup {
    /// Starts a setup as `role`. Both parties must use the same `setup_id` (fresh for every run,
    /// never the session id of any other run) and different roles.
    pub fn start(role: Role, setup_id: &SessionId) -> Result<(Setup, Vec<u8>), MpcError> {
        let (run, message) = dkls::setup::Run::start(role, setup_id)?;
        Ok((Setup(run), message))
    }
}

impl Machine for Setup {
    type Output = KeySetup;

    fn receive(self, message: &[u8]) -> Result<Transition<Self, KeySetup>, MpcError> {
        let (id, role, prepared) = self.0.receive(message)?;
        Ok(Transition::Done(KeySetup {
            id,
            role,
            prepared: Box::new(prepared),
        }))
    }

    fn awaits_last_round(&self) -> bool {
        true
    }
}

impl fmt::Debug for Setup {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Setup").finish_non_exhaustive()
    }
}

//! One party's share of a 2-of-2 key, and its storage encoding.

use std::fmt;

use frost_ed25519::keys::{KeyPackage, PublicKeyPackage};
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::dkls::{self, Party};
use crate::{encoding, frost, MpcError, PublicKey, Role, Scheme};

/// The storage format version written by [`KeyShare::to_bytes`]. A new layout gets a new
/// number; old numbers stay readable for as long as shares written with them may exist.
const FORMAT_V1: u8 = 1;

/// One party's share of a 2-of-2 key.
///
/// **Secret**: must not be sent to the other party, logged, or stored unsealed. `Debug` shows
/// only the scheme, role and public key; the secret parts wipe themselves on drop (the DKLs
/// `Party` and the FROST `KeyPackage` zeroize their secrets).
#[derive(Clone)]
pub struct KeyShare {
    role: Role,
    public_key: PublicKey,
    secret: Secret,
}

/// The library state behind a share.
#[derive(Clone)]
pub(crate) enum Secret {
    /// DKLs: the secret point plus the OT/multiplication state and zero-share seeds.
    Dkls(Box<Party>),
    /// FROST: the signing share, and every party's verifying share (to check signature shares).
    Frost {
        key_package: Box<KeyPackage>,
        public_key_package: Box<PublicKeyPackage>,
    },
}

/// Storage layout after the version byte, borrowed for writing. The variant order is the
/// format: it must match [`StoredOwned`].
#[derive(Serialize)]
enum StoredRef<'a> {
    Dkls(&'a Party),
    Frost {
        key_package: &'a KeyPackage,
        public_key_package: &'a PublicKeyPackage,
    },
}

/// Storage layout after the version byte, owned for reading.
#[derive(Deserialize)]
enum StoredOwned {
    Dkls(Box<Party>),
    Frost {
        key_package: Box<KeyPackage>,
        public_key_package: Box<PublicKeyPackage>,
    },
}

impl KeyShare {
    /// The scheme of the key.
    pub fn scheme(&self) -> Scheme {
        self.public_key.scheme()
    }

    /// Which party holds this share.
    pub fn role(&self) -> Role {
        self.role
    }

    /// The group public key (the same for both parties' shares).
    pub fn public_key(&self) -> PublicKey {
        self.public_key
    }

    /// Serializes the share: a 1-byte format version, then postcard. **Secret**: seal it before
    /// it leaves memory. The buffer wipes itself on drop.
    pub fn to_bytes(&self) -> Zeroizing<Vec<u8>> {
        let stored = match &self.secret {
            Secret::Dkls(party) => StoredRef::Dkls(party),
            Secret::Frost {
                key_package,
                public_key_package,
            } => StoredRef::Frost {
                key_package,
                public_key_package,
            },
        };
        // Every constructor has already encoded this share once (see `checked`), and encoding
        // is deterministic, so this cannot fail; the fallback only keeps the path panic-free.
        encoding::encode(FORMAT_V1, &stored).unwrap_or_default()
    }

    /// Parses what [`to_bytes`](Self::to_bytes) wrote, and checks that it is a consistent
    /// 2-of-2 share. Unknown versions, truncated, trailing or garbage bytes, and inconsistent
    /// contents are all [`MpcError::InvalidShare`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, MpcError> {
        if bytes.first() != Some(&FORMAT_V1) {
            return Err(MpcError::InvalidShare);
        }
        let (_, stored) = encoding::decode::<StoredOwned>(bytes).ok_or(MpcError::InvalidShare)?;
        match stored {
            StoredOwned::Dkls(party) => Self::dkls(party),
            StoredOwned::Frost {
                key_package,
                public_key_package,
            } => Self::frost(key_package, public_key_package),
        }
        .map_err(|_| MpcError::InvalidShare)
    }

    /// Wraps the result of a DKLs DKG or refresh, after checking it.
    pub(crate) fn from_dkls(party: Party) -> Result<Self, MpcError> {
        Self::dkls(Box::new(party))
    }

    /// Wraps the result of a FROST DKG or refresh, after checking it.
    pub(crate) fn from_frost(key_package: KeyPackage, public_key_package: PublicKeyPackage) -> Result<Self, MpcError> {
        Self::frost(Box::new(key_package), Box::new(public_key_package))
    }

    fn dkls(party: Box<Party>) -> Result<Self, MpcError> {
        let (role, public_key) = dkls::validate(&party)?;
        KeyShare {
            role,
            public_key,
            secret: Secret::Dkls(party),
        }
        .checked()
    }

    fn frost(key_package: Box<KeyPackage>, public_key_package: Box<PublicKeyPackage>) -> Result<Self, MpcError> {
        let (role, public_key) = frost::validate(&key_package, &public_key_package)?;
        KeyShare {
            role,
            public_key,
            secret: Secret::Frost {
                key_package,
                public_key_package,
            },
        }
        .checked()
    }

    /// Makes sure the share can be stored, so that `to_bytes` never has to report a failure
    /// (which would otherwise surface only when a stored share is read back, too late).
    fn checked(self) -> Result<Self, MpcError> {
        if self.to_bytes().is_empty() {
            return Err(MpcError::InvalidShare);
        }
        Ok(self)
    }

    /// The secret scalar in its canonical encoding (secp256k1 big-endian, Ed25519
    /// little-endian). Exists only so tests can prove the secret is stored nowhere in plaintext;
    /// never enable the `danger-expose-secret` feature in a build that serves.
    #[cfg(feature = "danger-expose-secret")]
    pub fn danger_secret_scalar(&self) -> Zeroizing<Vec<u8>> {
        match &self.secret {
            Secret::Dkls(party) => Zeroizing::new(
                dkls23::utilities::hashes::scalar_to_bytes::<crate::dkls::Curve>(&party.poly_point).to_vec(),
            ),
            Secret::Frost { key_package, .. } => Zeroizing::new(key_package.signing_share().serialize()),
        }
    }

    /// The library state, for the protocol machines.
    pub(crate) fn secret(&self) -> &Secret {
        &self.secret
    }
}

impl fmt::Debug for KeyShare {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KeyShare")
            .field("scheme", &format_args!("{}", self.scheme()))
            .field("role", &self.role)
            .field("public_key", &self.public_key)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use dkls23::protocols::PartyIndex;
    use dkls23::utilities::hashes::scalar_to_bytes;

    use super::*;
    use crate::dkls::Curve;
    use crate::{run_local, Dkg};

    fn pair(scheme: Scheme) -> (KeyShare, KeyShare) {
        let sid = [7u8; 32];
        run_local(
            Dkg::start(scheme, Role::User, &crate::SessionId::new(sid)).unwrap(),
            Dkg::start(scheme, Role::Cloud, &crate::SessionId::new(sid)).unwrap(),
        )
        .unwrap()
    }

    /// The hex of the secret scalar itself, which `Debug` must never contain.
    fn secret_hex(share: &KeyShare) -> String {
        match share.secret() {
            Secret::Dkls(party) => hex::encode(scalar_to_bytes::<Curve>(&party.poly_point)),
            Secret::Frost { key_package, .. } => hex::encode(key_package.signing_share().serialize()),
        }
    }

    fn encode_raw(stored: &StoredRef<'_>) -> Vec<u8> {
        encoding::encode(FORMAT_V1, stored).unwrap().to_vec()
    }

    #[test]
    fn debug_never_shows_the_secret_scalar() {
        for scheme in [Scheme::Frost, Scheme::Dkls] {
            let (user, cloud) = pair(scheme);
            for share in [&user, &cloud] {
                let secret = secret_hex(share);
                assert_eq!(secret.len(), 64);
                let debug = format!("{share:?} {:#?}", share);
                assert!(!debug.contains(&secret), "{debug}");
                assert!(debug.contains(scheme.as_str()), "{debug}");
            }
        }
    }

    #[test]
    fn inconsistent_frost_contents_are_invalid() {
        let (user, _) = pair(Scheme::Frost);
        let (other, other_cloud) = pair(Scheme::Frost);
        let (Secret::Frost { key_package, .. }, Secret::Frost { public_key_package, .. }) =
            (user.secret(), other.secret())
        else {
            unreachable!()
        };
        // One key's share with another key's public package.
        let mixed = encode_raw(&StoredRef::Frost {
            key_package,
            public_key_package,
        });
        assert!(matches!(KeyShare::from_bytes(&mixed), Err(MpcError::InvalidShare)));
        // The other key's own pair decodes (the raw encoder is the real format).
        let Secret::Frost { key_package, .. } = other_cloud.secret() else {
            unreachable!()
        };
        let good = encode_raw(&StoredRef::Frost {
            key_package,
            public_key_package,
        });
        assert_eq!(KeyShare::from_bytes(&good).unwrap().role(), Role::Cloud);
    }

    #[test]
    fn inconsistent_dkls_contents_are_invalid() {
        let (user, _) = pair(Scheme::Dkls);
        let Secret::Dkls(party) = user.secret() else {
            unreachable!()
        };
        let invalid = |p: &Party| {
            matches!(
                KeyShare::from_bytes(&encode_raw(&StoredRef::Dkls(p))),
                Err(MpcError::InvalidShare)
            )
        };
        assert!(!invalid(party), "the untouched party must decode");

        let mut p = (**party).clone();
        p.party_index = PartyIndex::new(3).unwrap();
        assert!(invalid(&p), "party index outside the pair");

        let mut p = (**party).clone();
        p.parameters.share_count = 3;
        assert!(invalid(&p), "not 2-of-2");

        let mut p = (**party).clone();
        p.mul_senders.clear();
        assert!(invalid(&p), "no multiplication state");

        let mut p = (**party).clone();
        p.party_index = PartyIndex::new(2).unwrap();
        assert!(invalid(&p), "state for the wrong peer");
    }
}

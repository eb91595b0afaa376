//! One party's share of a 2-of-2 key, and its storage encoding.

use std::fmt;
use std::sync::Arc;

use frost_ed25519::keys::{KeyPackage, PublicKeyPackage, SigningShare};
use frost_ed25519::Identifier;
use serde::{Deserialize, Serialize};
use zeroize::Zeroizing;

use crate::dkls::{self, Party};
use crate::public_packages::{self, PublicPackages};
use crate::{encoding, frost, MpcError, PublicKey, Role, Scheme};

/// The storage format versions. A new layout gets a new number; old numbers stay readable for
/// as long as shares written with them may exist.
///
/// Format 1 ([`StoredOwned`]): a DKLs party, or FROST's key package and public key package as
/// frost-core encodes them. [`KeyShare::to_bytes`] writes it for DKLs shares.
const FORMAT_V1: u8 = 1;
/// Format 2 ([`StoredFrostV2`]), FROST only: the identifier and signing share, and the public key
/// package's encoding apart, so a reader that has decoded those public bytes before need not
/// decode their points again ([`PublicPackages`]). The key package is rebuilt from them (its
/// verifying share and group key are the public package's). [`KeyShare::to_bytes`] writes it
/// for FROST shares.
const FORMAT_V2: u8 = 2;

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
    /// Format 1 FROST: read still, written by the tests only (FROST is written in format 2).
    #[cfg_attr(not(test), allow(dead_code))]
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

/// Format 2's layout after the version byte (FROST). The field order is the format.
#[derive(Serialize, Deserialize)]
struct StoredFrostV2 {
    /// frost-core's encoding of the holder's identifier.
    identifier: Vec<u8>,
    /// frost-core's encoding of the signing share. **Secret**; wiped on drop.
    signing_share: Zeroizing<Vec<u8>>,
    /// frost-core's encoding of the public key package (public).
    public_key_package: Vec<u8>,
}

impl StoredFrostV2 {
    /// `key_package`'s secret with the encoded public key package `public_key_package`.
    fn of(key_package: &KeyPackage, public_key_package: Vec<u8>) -> Self {
        StoredFrostV2 {
            identifier: key_package.identifier().serialize(),
            signing_share: Zeroizing::new(key_package.signing_share().serialize()),
            public_key_package,
        }
    }
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

    /// Serializes the share: a 1-byte format version, then postcard (format 1 for DKLs, 2 for
    /// FROST). **Secret**: seal it before it leaves memory. The buffer wipes itself on drop.
    pub fn to_bytes(&self) -> Zeroizing<Vec<u8>> {
        // Every constructor has already encoded this share once (see `checked`), and encoding
        // is deterministic, so this cannot fail; the fallback only keeps the path panic-free.
        self.encode().unwrap_or_default()
    }

    fn encode(&self) -> Option<Zeroizing<Vec<u8>>> {
        match &self.secret {
            Secret::Dkls(party) => encoding::encode(FORMAT_V1, &StoredRef::Dkls(party)).ok(),
            Secret::Frost {
                key_package,
                public_key_package,
            } => {
                let stored = StoredFrostV2::of(key_package, public_packages::encode(public_key_package)?);
                encoding::encode(FORMAT_V2, &stored).ok()
            }
        }
    }

    /// Parses what [`to_bytes`](Self::to_bytes) wrote (any format version still readable), and
    /// checks that it is a consistent 2-of-2 share. Unknown versions, truncated, trailing or
    /// garbage bytes, and inconsistent contents are all [`MpcError::InvalidShare`].
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, MpcError> {
        Self::read(bytes, None)
    }

    /// [`from_bytes`](Self::from_bytes), taking a FROST share's public key package from
    /// `packages` when these bytes were decoded before, and keeping it there otherwise: for a
    /// reader that opens the same shares again and again (the server, at every signature). The
    /// share's secret is checked against the package either way.
    pub fn from_bytes_with(bytes: &[u8], packages: &PublicPackages) -> Result<Self, MpcError> {
        Self::read(bytes, Some(packages))
    }

    fn read(bytes: &[u8], packages: Option<&PublicPackages>) -> Result<Self, MpcError> {
        match bytes.first() {
            Some(&FORMAT_V1) => {
                let (_, stored) = encoding::decode::<StoredOwned>(bytes).ok_or(MpcError::InvalidShare)?;
                match stored {
                    StoredOwned::Dkls(party) => Self::dkls(party),
                    StoredOwned::Frost {
                        key_package,
                        public_key_package,
                    } => Self::frost(key_package, public_key_package),
                }
            }
            Some(&FORMAT_V2) => {
                let (_, stored) = encoding::decode::<StoredFrostV2>(bytes).ok_or(MpcError::InvalidShare)?;
                let public_key_package = match packages {
                    Some(packages) => packages.decode(&stored.public_key_package)?,
                    None => Arc::new(public_packages::decode(&stored.public_key_package)?),
                };
                let identifier = Identifier::deserialize(&stored.identifier).map_err(|_| MpcError::InvalidShare)?;
                let verifying_share = *public_key_package
                    .verifying_shares()
                    .get(&identifier)
                    .ok_or(MpcError::InvalidShare)?;
                let min_signers = public_key_package.min_signers().ok_or(MpcError::InvalidShare)?;
                // The signing share last, straight into the key package (which wipes it): no
                // early return leaves a copy of it behind.
                let key_package = KeyPackage::new(
                    identifier,
                    SigningShare::deserialize(&stored.signing_share).map_err(|_| MpcError::InvalidShare)?,
                    verifying_share,
                    *public_key_package.verifying_key(),
                    min_signers,
                );
                // The verifying share, group key and threshold are the package's own here, so
                // of `frost`'s checks the one that matters is the secret's: the signing share
                // times G must be the verifying share the package records for it.
                // Decoded afresh, the package is this read's alone: moved, not cloned.
                Self::frost(
                    Box::new(key_package),
                    Box::new(Arc::unwrap_or_clone(public_key_package)),
                )
            }
            _ => Err(MpcError::InvalidShare),
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
        if self.encode().is_none() {
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
    use crate::frost::identifier;
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

    /// A FROST share's key package and public key package.
    fn frost_parts(share: &KeyShare) -> (&KeyPackage, &PublicKeyPackage) {
        match share.secret() {
            Secret::Frost {
                key_package,
                public_key_package,
            } => (key_package, public_key_package),
            Secret::Dkls(_) => panic!("a FROST share"),
        }
    }

    /// The format 2 encoding of a FROST share's parts, as `to_bytes` writes it.
    fn encode_v2(key_package: &KeyPackage, public_key_package: &PublicKeyPackage) -> Vec<u8> {
        let stored = StoredFrostV2::of(key_package, public_packages::encode(public_key_package).unwrap());
        encoding::encode(FORMAT_V2, &stored).unwrap().to_vec()
    }

    #[test]
    fn frost_is_written_in_format_2_and_format_1_still_reads_as_the_same_share() {
        let (user, cloud) = pair(Scheme::Frost);
        for share in [&user, &cloud] {
            let bytes = share.to_bytes();
            assert_eq!(bytes[0], FORMAT_V2);
            let (key_package, public_key_package) = frost_parts(share);
            let v1 = encode_raw(&StoredRef::Frost {
                key_package,
                public_key_package,
            });
            let packages = PublicPackages::new();
            for read in [
                KeyShare::from_bytes(&bytes).unwrap(),
                KeyShare::from_bytes_with(&bytes, &packages).unwrap(),
                KeyShare::from_bytes_with(&bytes, &packages).unwrap(),
                KeyShare::from_bytes(&v1).unwrap(),
            ] {
                assert_eq!(read.role(), share.role());
                assert_eq!(read.public_key(), share.public_key());
                assert_eq!(read.to_bytes(), bytes, "the same share, written the same way");
            }
            assert_eq!(packages.len(), 1, "decoded once, then taken from the set");
        }
        assert_eq!(pair(Scheme::Dkls).0.to_bytes()[0], FORMAT_V1);
    }

    #[test]
    fn a_kept_public_package_never_vouches_for_another_keys_secret() {
        let (user, _) = pair(Scheme::Frost);
        let (other, _) = pair(Scheme::Frost);
        let (key_package, public_key_package) = frost_parts(&user);
        let (_, other_package) = frost_parts(&other);
        let packages = PublicPackages::new();
        // Both packages kept, as a server that opened both wallets' shares has them.
        KeyShare::from_bytes_with(&user.to_bytes(), &packages).unwrap();
        KeyShare::from_bytes_with(&other.to_bytes(), &packages).unwrap();
        assert_eq!(packages.len(), 2);

        // This key's secret with the other key's package.
        let mixed = encode_v2(key_package, other_package);
        assert!(matches!(
            KeyShare::from_bytes_with(&mixed, &packages),
            Err(MpcError::InvalidShare)
        ));
        assert!(matches!(KeyShare::from_bytes(&mixed), Err(MpcError::InvalidShare)));

        // Another secret with this key's package: its verifying share is not that secret times G.
        let mut bytes = user.to_bytes().to_vec();
        let share_at = 1 + 1 + 32 + 1;
        assert_eq!(
            &bytes[share_at..share_at + 32],
            &key_package.signing_share().serialize()[..],
            "the layout: version, identifier (length, 32 bytes), signing share (length, 32 bytes)"
        );
        bytes[share_at] ^= 1;
        assert!(matches!(
            KeyShare::from_bytes_with(&bytes, &packages),
            Err(MpcError::InvalidShare)
        ));
        assert!(matches!(KeyShare::from_bytes(&bytes), Err(MpcError::InvalidShare)));

        // A package whose bytes do not decode (cut short inside the group key) is refused and
        // not kept.
        let mut package = public_packages::encode(public_key_package).unwrap();
        package.truncate(package.len() - 10);
        let broken = encoding::encode(FORMAT_V2, &StoredFrostV2::of(key_package, package)).unwrap();
        assert!(matches!(
            KeyShare::from_bytes_with(&broken, &packages),
            Err(MpcError::InvalidShare)
        ));
        assert_eq!(packages.len(), 2);
        // The untouched parts still read.
        assert!(KeyShare::from_bytes_with(&encode_v2(key_package, public_key_package), &packages).is_ok());
    }

    /// A cloud share of a throwaway Ed25519 key, written in format 1 by the build before
    /// format 2 (`1b6da0f`): it must keep reading.
    #[test]
    fn a_format_1_share_written_by_an_older_build_still_reads() {
        let bytes = hex::decode(include_str!("../tests/fixtures/frost-cloud-share-v1.hex").trim()).unwrap();
        let key = hex::decode(include_str!("../tests/fixtures/frost-cloud-share-v1.public-key.hex").trim()).unwrap();
        assert_eq!(bytes[0], FORMAT_V1);
        let packages = PublicPackages::new();
        for share in [
            KeyShare::from_bytes(&bytes).unwrap(),
            KeyShare::from_bytes_with(&bytes, &packages).unwrap(),
        ] {
            assert_eq!(share.role(), Role::Cloud);
            assert_eq!(share.public_key().as_bytes(), &key[..]);
            // Written again, it is format 2, and that reads as the same share.
            let again = share.to_bytes();
            assert_eq!(again[0], FORMAT_V2);
            assert_eq!(KeyShare::from_bytes(&again).unwrap().to_bytes(), again);
        }
        assert!(packages.is_empty(), "format 1 keeps no package");
    }

    #[test]
    fn a_kept_package_gives_what_a_fresh_decode_gives_for_any_change_of_its_bytes() {
        let (user, _) = pair(Scheme::Frost);
        let (other, _) = pair(Scheme::Frost);
        let (key_package, public_key_package) = frost_parts(&user);
        let (_, other_package) = frost_parts(&other);
        let packages = PublicPackages::new();
        KeyShare::from_bytes_with(&user.to_bytes(), &packages).unwrap();
        let shares = public_key_package.verifying_shares().clone();
        let key = *public_key_package.verifying_key();
        let peer = identifier(Role::Cloud).unwrap();
        let mut peer_changed = shares.clone();
        peer_changed.insert(peer, other_package.verifying_shares()[&peer]);
        let variants = [
            ("threshold 3", PublicKeyPackage::new(shares.clone(), key, Some(3))),
            ("no threshold", PublicKeyPackage::new(shares.clone(), key, None)),
            (
                "another group key",
                PublicKeyPackage::new(shares.clone(), *other_package.verifying_key(), Some(2)),
            ),
            ("another peer share", PublicKeyPackage::new(peer_changed, key, Some(2))),
        ];
        for (what, variant) in variants {
            let bytes = encode_v2(key_package, &variant);
            let outcome = |read: Result<KeyShare, MpcError>| read.map(|s| s.to_bytes().to_vec()).map_err(|_| ());
            let fresh = outcome(KeyShare::from_bytes(&bytes));
            assert_eq!(outcome(KeyShare::from_bytes_with(&bytes, &packages)), fresh, "{what}");
            if let Ok(read) = fresh {
                assert_eq!(read, bytes, "{what}: read as its own bytes, not the kept package's");
            }
        }
        // Kept: the original, and the two variants that are 2-of-2 packages (another group key
        // is refused by the share's own check; the peer's share is not checked against the
        // group key, FROST keeps it to check the peer's signature shares, so that one reads, as
        // its own). Not kept: the thresholds other than 2.
        assert_eq!(packages.len(), 3);
    }

    #[test]
    fn a_full_set_of_packages_starts_afresh_and_still_reads_every_share() {
        let packages = PublicPackages::with_room(2);
        let shares: Vec<KeyShare> = (0..3).map(|_| pair(Scheme::Frost).0).collect();
        for _ in 0..2 {
            for share in &shares {
                let read = KeyShare::from_bytes_with(&share.to_bytes(), &packages).unwrap();
                assert_eq!(read.public_key(), share.public_key());
                assert!(packages.len() <= 2);
            }
        }
    }

    #[test]
    fn one_format_never_reads_as_the_other() {
        let (user, _) = pair(Scheme::Frost);
        let (key_package, public_key_package) = frost_parts(&user);
        let v1 = encode_raw(&StoredRef::Frost {
            key_package,
            public_key_package,
        });
        let dkls = pair(Scheme::Dkls).0.to_bytes().to_vec();
        let packages = PublicPackages::new();
        let refused = |bytes: &[u8]| {
            matches!(KeyShare::from_bytes(bytes), Err(MpcError::InvalidShare))
                && matches!(KeyShare::from_bytes_with(bytes, &packages), Err(MpcError::InvalidShare))
        };
        let with = |bytes: &[u8], at: usize, value: u8| {
            let mut b = bytes.to_vec();
            b[at] = value;
            b
        };
        assert!(KeyShare::from_bytes(&v1).is_ok() && KeyShare::from_bytes(&dkls).is_ok());
        assert!(refused(&with(&v1, 1, 0)), "format 1 FROST tagged as DKLs");
        assert!(refused(&with(&dkls, 1, 1)), "format 1 DKLs tagged as FROST");
        assert!(refused(&with(&v1, 0, FORMAT_V2)), "format 1 FROST read as format 2");
        assert!(refused(&with(&dkls, 0, FORMAT_V2)), "DKLs read as format 2");
        assert!(
            refused(&with(&user.to_bytes(), 0, FORMAT_V1)),
            "format 2 read as format 1"
        );
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

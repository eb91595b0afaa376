//! FROST public key packages already decoded, kept for the next read of a share that carries the
//! same bytes ([`KeyShare::from_bytes_with`](crate::KeyShare::from_bytes_with)).
//!
//! Decoding an Ed25519 point checks that it has the group's prime order: a full scalar
//! multiplication for each point. A server opens a wallet's cloud share at every signature,
//! and its public package (both verifying shares and the group key) is the same each time.
//! That package is public: the peer holds it too, and the group key is the wallet's. So keeping
//! it decoded exposes nothing. Only what was decoded from exactly these bytes is handed out,
//! and a share read with it still checks its own secret against it (`frost::validate`: the
//! signing share times G must be the verifying share the package records for it). A package
//! from another key can therefore never pass for this one.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use frost_ed25519::keys::PublicKeyPackage;

use crate::MpcError;

/// At most this many packages are kept by [`PublicPackages::new`]; when full, the next new one
/// starts afresh.
const KEPT: usize = 4096;

/// Decoded FROST public key packages, by their encoding. Public data only: never a secret.
#[derive(Debug)]
pub struct PublicPackages {
    decoded: Mutex<HashMap<Vec<u8>, Arc<PublicKeyPackage>>>,
    room: usize,
}

impl Default for PublicPackages {
    fn default() -> Self {
        Self::with_room(KEPT)
    }
}

impl PublicPackages {
    /// An empty set, keeping up to 4,096 packages (a server signing with more Ed25519 wallets
    /// than that in turn decodes afresh more often).
    pub fn new() -> Self {
        Self::default()
    }

    /// An empty set keeping up to `room` packages.
    pub fn with_room(room: usize) -> Self {
        PublicPackages {
            decoded: Mutex::new(HashMap::new()),
            room: room.max(1),
        }
    }

    /// How many packages are kept now.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether none is kept.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The package `bytes` encode: kept from an earlier read, or decoded (every point checked)
    /// and kept. Bytes that do not decode, or decode to anything but a 2-of-2 package, are
    /// [`MpcError::InvalidShare`] and are not kept.
    pub(crate) fn decode(&self, bytes: &[u8]) -> Result<Arc<PublicKeyPackage>, MpcError> {
        if let Some(kept) = self.lock().get(bytes) {
            return Ok(Arc::clone(kept));
        }
        // Decoded outside the lock: other reads need not wait for these scalar multiplications.
        let decoded = Arc::new(decode(bytes)?);
        let mut kept = self.lock();
        // Another read may have kept the same package meanwhile: then nothing is added.
        if !kept.contains_key(bytes) {
            if kept.len() >= self.room {
                kept.clear();
            }
            kept.insert(bytes.to_vec(), Arc::clone(&decoded));
        }
        Ok(decoded)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Vec<u8>, Arc<PublicKeyPackage>>> {
        // A panic while holding the lock cannot leave the map half-changed in a way that
        // matters: every entry is a complete decode of its key.
        self.decoded.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Encodes a public key package (postcard, as frost-core's own encoding).
pub(crate) fn encode(package: &PublicKeyPackage) -> Option<Vec<u8>> {
    postcard::to_allocvec(package).ok()
}

/// Decodes what [`encode`] wrote, every point checked, no byte left over, and only a 2-of-2
/// package (frost-core's reader takes a missing threshold as `None`): what
/// [`PublicPackages::decode`] keeps.
pub(crate) fn decode(bytes: &[u8]) -> Result<PublicKeyPackage, MpcError> {
    match postcard::take_from_bytes::<PublicKeyPackage>(bytes) {
        Ok((package, [])) if package.min_signers() == Some(2) && package.verifying_shares().len() == 2 => Ok(package),
        _ => Err(MpcError::InvalidShare),
    }
}

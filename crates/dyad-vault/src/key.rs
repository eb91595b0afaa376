//! The vault key: 32 bytes the app provides (base64 in `DYAD_VAULT_KEY`, or a file), never
//! stored in the vault. Rows name the key that sealed them by a fingerprint only.

use std::fmt;
use std::path::Path;

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use sha2::{Digest, Sha256};
use zeroize::Zeroizing;

use crate::VaultError;

/// A vault key. Secret: must not be logged or stored beside the vault; redacted in `Debug`,
/// wiped on drop.
pub struct VaultKey(Zeroizing<[u8; 32]>);

impl fmt::Debug for VaultKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "VaultKey({}, ..)", self.id())
    }
}

impl VaultKey {
    /// A fresh random key (for `dyad vault rekey` and tests).
    pub fn random() -> Self {
        use rand_core::RngCore;
        let mut k = Zeroizing::new([0u8; 32]);
        rand_core::OsRng.fill_bytes(&mut k[..]);
        Self(k)
    }

    /// The key from its base64 text (32 bytes; surrounding space ignored).
    pub fn from_base64(text: &str) -> Result<Self, VaultError> {
        let bytes = Zeroizing::new(
            STANDARD
                .decode(text.trim())
                .map_err(|_| VaultError::Key("the vault key is not base64".into()))?,
        );
        let arr: [u8; 32] = bytes
            .as_slice()
            .try_into()
            .map_err(|_| VaultError::Key(format!("the vault key is {} bytes; it must be 32", bytes.len())))?;
        Ok(Self(Zeroizing::new(arr)))
    }

    /// The key from a file holding its base64 text.
    pub fn from_file(path: &Path) -> Result<Self, VaultError> {
        let text = Zeroizing::new(
            std::fs::read_to_string(path)
                .map_err(|e| VaultError::Key(format!("reading the vault key file {}: {e}", path.display())))?,
        );
        Self::from_base64(&text)
    }

    /// The key as base64 text, to hand to the app once (`dyad vault rekey` prints the new key).
    pub fn to_base64(&self) -> Zeroizing<String> {
        Zeroizing::new(STANDARD.encode(&self.0[..]))
    }

    /// The key's fingerprint as stored in each row: 16 hex digits of
    /// `SHA-256("dyad/v1/vault-key-id" ‖ key)`.
    pub fn id(&self) -> String {
        let mut h = Sha256::new();
        h.update(b"dyad/v1/vault-key-id");
        h.update(&self.0[..]);
        hex::encode(&h.finalize()[..8])
    }

    pub(crate) fn cipher(&self) -> aes_gcm::Aes256Gcm {
        use aes_gcm::KeyInit;
        aes_gcm::Aes256Gcm::new((&*self.0).into())
    }
}

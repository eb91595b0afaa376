//! Sealing cloud shares at rest.
//!
//! Key hierarchy: the **master key** (from the environment or a 0600 key file, never stored in the
//! database) is never used as a key itself. HKDF-SHA256 (salt `dyad/v1`) derives one subkey per
//! job, each under its own label: the **wrapping key** (`data-key-wrapping`) wraps a random
//! **data key** (stored wrapped), and the **ceremony key** (`ceremony-static-key`) is the server's
//! Noise static key, so every replica sharing the master key presents the same one. The data key
//! seals every cloud share with AES-256-GCM, with the wallet id and key version as associated
//! data so a sealed row copied onto another wallet or version fails to open.

use std::fmt;
use std::io::Write;
use std::path::Path;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use dyad_proto::{KeySetupId, WalletId};
use rand_core::{OsRng, RngCore};
use zeroize::Zeroizing;

use crate::model::Scope;
use crate::setup::SetupError;

/// Sealing or opening failed. Says which, never why in terms of key material.
#[derive(Debug, thiserror::Error)]
pub enum SealError {
    /// AES-GCM refused to seal (never expected).
    #[error("sealing failed")]
    Seal,
    /// A sealed value did not open: wrong key, wallet or version, or tampered.
    #[error("a sealed value failed to open (wrong key, wallet or version)")]
    Open,
}

const NONCE: usize = 12;

/// HKDF salt of every subkey of the master key.
const KDF_SALT: &[u8] = b"dyad/v1";
/// HKDF label of the key that wraps data keys.
const WRAPPING_LABEL: &[u8] = b"data-key-wrapping";
/// HKDF label of the Noise static key (unchanged since the first version: user shares record the
/// ceremony public key, so changing it would orphan them).
const CEREMONY_LABEL: &[u8] = b"ceremony-static-key";
/// HKDF label of the key one-time login codes are MACed with.
const CODE_LABEL: &[u8] = b"one-time-codes";
/// HKDF label of the key OAuth PKCE verifiers are derived with.
const PKCE_LABEL: &[u8] = b"oauth-pkce-verifier";

/// What data keys this version makes are wrapped with (stored beside each wrapped key).
pub const WRAPPING: &str = "hkdf-sha256:data-key-wrapping";

/// The root secret of a server. Must not be logged or stored beside the data it protects.
pub struct MasterKey(Zeroizing<[u8; 32]>);

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MasterKey(..)")
    }
}

impl MasterKey {
    /// From 64 hex characters (as in `DYAD_MASTER_KEY`).
    pub fn from_hex(hex_str: &str) -> Result<Self, SetupError> {
        let mut k = Zeroizing::new([0u8; 32]);
        hex::decode_to_slice(hex_str.trim(), &mut k[..])
            .map_err(|_| SetupError::MasterKey("the master key must be 64 hex characters".into()))?;
        Ok(Self(k))
    }

    /// Read a key file holding 64 hex characters.
    pub fn from_file(path: &Path) -> Result<Self, SetupError> {
        let text = Zeroizing::new(
            std::fs::read_to_string(path)
                .map_err(|e| SetupError::MasterKey(format!("reading master key file {}: {e}", path.display())))?,
        );
        Self::from_hex(&text)
    }

    /// Read the key file, or create it (mode 0600) with a fresh random key if it does not exist.
    /// Creation writes a temporary file and links it into place, so a crash never leaves a
    /// half-written key and two processes starting together end up with the same key. A key file
    /// that others can read is refused.
    pub fn load_or_create(path: &Path) -> Result<Self, SetupError> {
        if !path.exists() {
            Self::create(path)?;
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(path)
                .map_err(|e| SetupError::MasterKey(format!("reading master key file {}: {e}", path.display())))?
                .permissions()
                .mode();
            if mode & 0o077 != 0 {
                return Err(SetupError::MasterKey(format!(
                    "master key file {} is open to group or others (mode {:o}): run `chmod 600 {}`",
                    path.display(),
                    mode & 0o777,
                    path.display()
                )));
            }
        }
        Self::from_file(path)
    }

    fn create(path: &Path) -> Result<(), SetupError> {
        let mut k = Zeroizing::new([0u8; 32]);
        OsRng.fill_bytes(&mut k[..]);
        let hex_key = Zeroizing::new(hex::encode(&k[..]));
        let tmp = path.with_extension(format!("tmp-{}", std::process::id()));
        let io = |e: std::io::Error| SetupError::MasterKey(format!("creating master key file {}: {e}", path.display()));
        let mut opts = std::fs::OpenOptions::new();
        opts.write(true).create_new(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            opts.mode(0o600);
        }
        let written = opts.open(&tmp).and_then(|mut f| {
            f.write_all(hex_key.as_bytes())?;
            f.sync_all()
        });
        let linked = written.and_then(|_| match std::fs::hard_link(&tmp, path) {
            // Another process won the race: its key is the key.
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
            other => other,
        });
        let _ = std::fs::remove_file(&tmp);
        linked.map_err(io)
    }

    /// A 32-byte subkey for one job: HKDF-SHA256 of the master key under its own label.
    fn subkey(&self, label: &[u8]) -> Zeroizing<[u8; 32]> {
        let hk = hkdf::Hkdf::<sha2::Sha256>::new(Some(KDF_SALT), &self.0[..]);
        let mut out = Zeroizing::new([0u8; 32]);
        // 32 bytes is far below HKDF-SHA256's output limit.
        let _ = hk.expand(label, &mut out[..]);
        out
    }

    /// The secret of the server's static ceremony key, derived so that it needs no storage.
    pub fn ceremony_key_secret(&self) -> [u8; 32] {
        *self.subkey(CEREMONY_LABEL)
    }

    /// The key one-time login codes are stored under (an HMAC), so that a database reader
    /// cannot try the million six-digit codes offline.
    pub fn code_key(&self) -> CodeKey {
        CodeKey(self.subkey(CODE_LABEL))
    }

    /// The key each OAuth login's PKCE verifier is derived with from its state, so the
    /// database keeps no verifier at all (only the state's hash).
    pub fn pkce_key(&self) -> PkceKey {
        PkceKey(self.subkey(PKCE_LABEL))
    }

    fn wrapping_cipher(&self) -> Aes256Gcm {
        Aes256Gcm::new((&*self.subkey(WRAPPING_LABEL)).into())
    }

    /// Wrap a fresh data key; returns the key and its wrapped form for storage.
    pub fn new_data_key(&self, id: i64) -> Result<(DataKey, Vec<u8>), SealError> {
        let mut k = Zeroizing::new([0u8; 32]);
        OsRng.fill_bytes(&mut k[..]);
        let wrapped = seal_with(&self.wrapping_cipher(), &k[..], &data_key_aad(id))?;
        Ok((DataKey { id, key: k }, wrapped))
    }

    /// Unwrap a stored data key.
    pub fn unwrap_data_key(&self, id: i64, wrapped: &[u8]) -> Result<DataKey, SetupError> {
        let plain = open_with(&self.wrapping_cipher(), wrapped, &data_key_aad(id)).map_err(|_| {
            SetupError::MasterKey(
                "the database's data key does not open with this master key: the database was made with another \
                 master key (check DYAD_MASTER_KEY and master.key)"
                    .into(),
            )
        })?;
        let mut k = Zeroizing::new([0u8; 32]);
        if plain.len() != 32 {
            return Err(SetupError::MasterKey(
                "the database's data key has the wrong length".into(),
            ));
        }
        k.copy_from_slice(&plain);
        Ok(DataKey { id, key: k })
    }
}

fn data_key_aad(id: i64) -> Vec<u8> {
    [b"dyad/v1/data-key".as_slice(), &id.to_be_bytes()].concat()
}

fn share_aad(wallet: &WalletId, key_version: u32) -> Vec<u8> {
    [
        b"dyad/v1/cloud-share".as_slice(),
        wallet.0.as_bytes(),
        &key_version.to_be_bytes(),
    ]
    .concat()
}

/// The HMAC-SHA256 key of one-time codes. Must not be logged.
pub struct CodeKey(Zeroizing<[u8; 32]>);

impl fmt::Debug for CodeKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("CodeKey(..)")
    }
}

impl CodeKey {
    /// The MAC of `code` for the challenge `challenge` (so equal codes of two challenges differ).
    pub fn mac(&self, challenge: &str, code: &str) -> [u8; 32] {
        use hmac::Mac;
        // HMAC takes keys of any length: this cannot fail.
        let mut m = <hmac::Hmac<sha2::Sha256> as Mac>::new_from_slice(&self.0[..])
            .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
        m.update(&(challenge.len() as u32).to_be_bytes());
        m.update(challenge.as_bytes());
        m.update(code.as_bytes());
        m.finalize().into_bytes().into()
    }

    /// Whether `code` is the one whose MAC is `stored`, compared in constant time.
    pub fn matches(&self, challenge: &str, code: &str, stored: &[u8]) -> bool {
        use subtle::ConstantTimeEq;
        stored.len() == 32 && bool::from(self.mac(challenge, code).ct_eq(stored))
    }
}

/// The HMAC-SHA256 key OAuth PKCE verifiers are derived with. Must not be logged.
pub struct PkceKey(Zeroizing<[u8; 32]>);

impl fmt::Debug for PkceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PkceKey(..)")
    }
}

impl PkceKey {
    /// The PKCE `code_verifier` of the OAuth login whose state is `state`: base64url (no
    /// padding) of HMAC-SHA256(key, state), 43 characters as RFC 7636 asks. Only a holder of the
    /// master key can compute it, so neither the state in the redirect URL nor a database
    /// reader learns it. Secret until sent to the token endpoint.
    pub fn verifier(&self, state: &str) -> Zeroizing<String> {
        use base64::Engine;
        use hmac::Mac;
        let mut m = <hmac::Hmac<sha2::Sha256> as Mac>::new_from_slice(&self.0[..])
            .unwrap_or_else(|_| unreachable!("HMAC accepts any key length"));
        m.update(state.as_bytes());
        let tag = Zeroizing::new(<[u8; 32]>::from(m.finalize().into_bytes()));
        Zeroizing::new(base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&tag[..]))
    }
}

/// The key that seals cloud shares. Must not be logged.
pub struct DataKey {
    id: i64,
    key: Zeroizing<[u8; 32]>,
}

impl fmt::Debug for DataKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "DataKey {{ id: {}, .. }}", self.id)
    }
}

impl DataKey {
    /// Which stored data key this is.
    pub fn id(&self) -> i64 {
        self.id
    }

    fn cipher(&self) -> Aes256Gcm {
        Aes256Gcm::new((&*self.key).into())
    }

    /// Seal a serialized cloud share for `wallet` at `key_version`: `nonce ‖ ciphertext`.
    pub fn seal_share(&self, wallet: &WalletId, key_version: u32, share: &[u8]) -> Result<Vec<u8>, SealError> {
        seal_with(&self.cipher(), share, &share_aad(wallet, key_version))
    }

    /// Open a sealed cloud share; fails if it was sealed for another wallet or version, or altered.
    pub fn open_share(
        &self,
        wallet: &WalletId,
        key_version: u32,
        sealed: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, SealError> {
        open_with(&self.cipher(), sealed, &share_aad(wallet, key_version)).map_err(|_| SealError::Open)
    }
}

impl DataKey {
    /// Seal the cloud's half of a key setup `id` made with `scope`'s app: `nonce ‖ ciphertext`.
    /// As secret as a cloud share, so sealed like one, under its own label.
    pub fn seal_key_setup(&self, id: &KeySetupId, scope: &Scope, half: &[u8]) -> Result<Vec<u8>, SealError> {
        seal_with(&self.cipher(), half, &key_setup_aad(id, scope))
    }

    /// Open a sealed key setup half; fails if it was sealed for another id or app, or altered.
    pub fn open_key_setup(
        &self,
        id: &KeySetupId,
        scope: &Scope,
        sealed: &[u8],
    ) -> Result<Zeroizing<Vec<u8>>, SealError> {
        open_with(&self.cipher(), sealed, &key_setup_aad(id, scope)).map_err(|_| SealError::Open)
    }
}

fn key_setup_aad(id: &KeySetupId, scope: &Scope) -> Vec<u8> {
    [
        b"dyad/v1/key-setup".as_slice(),
        id.0.as_bytes(),
        scope.app_id.0.as_bytes(),
        scope.environment.as_str().as_bytes(),
    ]
    .concat()
}

fn seal_with(cipher: &Aes256Gcm, plain: &[u8], aad: &[u8]) -> Result<Vec<u8>, SealError> {
    let mut nonce = [0u8; NONCE];
    OsRng.fill_bytes(&mut nonce);
    let ct = cipher
        .encrypt(Nonce::from_slice(&nonce), Payload { msg: plain, aad })
        .map_err(|_| SealError::Seal)?;
    Ok([&nonce[..], &ct].concat())
}

fn open_with(cipher: &Aes256Gcm, sealed: &[u8], aad: &[u8]) -> Result<Zeroizing<Vec<u8>>, ()> {
    if sealed.len() < NONCE + 16 {
        return Err(());
    }
    let (nonce, ct) = sealed.split_at(NONCE);
    cipher
        .decrypt(Nonce::from_slice(nonce), Payload { msg: ct, aad })
        .map(Zeroizing::new)
        .map_err(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_setups_open_only_for_their_id_app_and_environment() {
        use dyad_proto::{AppId, Environment};
        let mk = MasterKey::from_hex(&"33".repeat(32)).unwrap();
        let (dk, _) = mk.new_data_key(1).unwrap();
        let id = KeySetupId::random();
        let scope = Scope {
            app_id: AppId::random(),
            environment: Environment::Beta,
        };
        let sealed = dk.seal_key_setup(&id, &scope, b"secret setup half").unwrap();
        assert!(!sealed.windows(6).any(|x| x == b"secret"));
        assert_eq!(
            &dk.open_key_setup(&id, &scope, &sealed).unwrap()[..],
            b"secret setup half"
        );
        let other_app = Scope {
            app_id: AppId::random(),
            ..scope
        };
        let other_env = Scope {
            environment: Environment::Prod,
            ..scope
        };
        for (id, scope) in [(KeySetupId::random(), scope), (id, other_app), (id, other_env)] {
            assert!(matches!(dk.open_key_setup(&id, &scope, &sealed), Err(SealError::Open)));
        }
        // Not a cloud share either: the labels differ.
        assert!(matches!(
            dk.open_share(&WalletId(id.0), 1, &sealed),
            Err(SealError::Open)
        ));
    }

    #[test]
    fn shares_open_only_for_their_wallet_and_version() {
        let mk = MasterKey::from_hex(&"11".repeat(32)).unwrap();
        let (dk, wrapped) = mk.new_data_key(1).unwrap();
        let dk2 = mk.unwrap_data_key(1, &wrapped).unwrap();
        assert!(matches!(mk.unwrap_data_key(2, &wrapped), Err(SetupError::MasterKey(_))));
        let w = WalletId::random();
        let sealed = dk.seal_share(&w, 1, b"secret share bytes").unwrap();
        assert!(!sealed.windows(6).any(|x| x == b"secret"));
        assert_eq!(&dk2.open_share(&w, 1, &sealed).unwrap()[..], b"secret share bytes");
        assert!(matches!(dk2.open_share(&w, 2, &sealed), Err(SealError::Open)));
        assert!(matches!(
            dk2.open_share(&WalletId::random(), 1, &sealed),
            Err(SealError::Open)
        ));
        let mut bad = sealed.clone();
        bad[20] ^= 1;
        assert!(matches!(dk2.open_share(&w, 1, &bad), Err(SealError::Open)));
        let other = MasterKey::from_hex(&"22".repeat(32)).unwrap();
        assert!(matches!(
            other.unwrap_data_key(1, &wrapped),
            Err(SetupError::MasterKey(_))
        ));
        assert_ne!(mk.ceremony_key_secret(), other.ceremony_key_secret());
        assert_eq!(format!("{mk:?}"), "MasterKey(..)");
    }

    #[test]
    fn subkeys_differ_from_each_other_and_from_the_master_key() {
        let master = [0x11u8; 32];
        let mk = MasterKey::from_hex(&hex::encode(master)).unwrap();
        let wrapping = *mk.subkey(WRAPPING_LABEL);
        let ceremony = mk.ceremony_key_secret();
        let codes = *mk.code_key().0;
        let pkce = *mk.pkce_key().0;
        for other in [wrapping, ceremony, codes, master] {
            assert_ne!(pkce, other);
        }
        let verifier = mk.pkce_key().verifier("a-state");
        assert_eq!(verifier.len(), 43);
        assert_ne!(*verifier, *mk.pkce_key().verifier("another-state"));
        assert_eq!(*verifier, *mk.pkce_key().verifier("a-state"));
        assert_ne!(wrapping, ceremony);
        assert_ne!(codes, wrapping);
        assert_ne!(codes, ceremony);
        assert_ne!(codes, master);
        assert_ne!(wrapping, master);
        assert_ne!(ceremony, master);
        // The ceremony key's derivation is the first version's: existing user shares, which
        // record the ceremony public key, keep working.
        let hk = hkdf::Hkdf::<sha2::Sha256>::new(Some(b"dyad/v1"), &master);
        let mut first_version = [0u8; 32];
        hk.expand(b"ceremony-static-key", &mut first_version).unwrap();
        assert_eq!(ceremony, first_version);
    }

    #[test]
    fn a_data_key_wrapped_by_the_master_key_itself_does_not_open() {
        let mk = MasterKey::from_hex(&"11".repeat(32)).unwrap();
        // The first version's scheme: AES-256-GCM under the master key directly.
        let direct = Aes256Gcm::new((&*mk.0).into());
        let legacy = seal_with(&direct, &[7u8; 32], &data_key_aad(1)).unwrap();
        let err = mk.unwrap_data_key(1, &legacy).unwrap_err();
        assert!(matches!(err, SetupError::MasterKey(_)), "{err:?}");
        assert!(err.to_string().contains("does not open"), "{err}");
        // And a key wrapped now does not open under the old scheme.
        let (_, wrapped) = mk.new_data_key(1).unwrap();
        assert!(open_with(&direct, &wrapped, &data_key_aad(1)).is_err());
    }

    #[test]
    fn key_file_is_created_private_and_reloads() {
        let dir = std::env::temp_dir().join(format!("dyad-mk-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("master.key");
        let a = MasterKey::load_or_create(&path).unwrap();
        let b = MasterKey::load_or_create(&path).unwrap();
        assert_eq!(a.ceremony_key_secret(), b.ceremony_key_secret());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
        std::fs::remove_dir_all(dir).unwrap();
    }
}

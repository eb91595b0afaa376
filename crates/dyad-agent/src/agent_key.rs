//! The agent's own caller keys (`X-API-Key`): a secret separate from the app's Dyad API key,
//! shown once when made and kept only as its SHA-256 in a keys file (one `sha256:HEX` line per
//! key, mode 0600), so the file alone lets nobody call the agent.

use std::fmt;
use std::io::Write;
use std::path::Path;

use rand_core::{OsRng, RngCore};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

use crate::error::AgentError;

const PREFIX: &str = "dyad_agent_";
const LINE_PREFIX: &str = "sha256:";

/// A caller key as made: the secret to hand to the app's backend. Must not be logged or stored
/// anywhere but where the backend keeps its secrets.
pub struct AgentKey(Zeroizing<String>);

impl AgentKey {
    /// A new random key.
    pub fn random() -> Self {
        let mut bytes = Zeroizing::new([0u8; 32]);
        OsRng.fill_bytes(bytes.as_mut());
        let digits = Zeroizing::new(hex::encode(bytes.as_ref()));
        Self(Zeroizing::new(format!("{PREFIX}{}", digits.as_str())))
    }

    /// The secret text.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// What the keys file keeps of it.
    fn line(&self) -> String {
        format!("{LINE_PREFIX}{}", hex::encode(hash(self.expose())))
    }

    /// Make a new key and append its hash to the keys file at `path` (created 0600 if missing):
    /// the secret is returned, never written.
    pub fn create_in(path: &Path) -> Result<Self, AgentError> {
        let key = Self::random();
        let mut options = std::fs::OpenOptions::new();
        options.create(true).append(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let io = |e: std::io::Error| AgentError::Setup(format!("writing the agent keys file {}: {e}", path.display()));
        let mut file = options.open(path).map_err(io)?;
        writeln!(file, "{}", key.line()).map_err(io)?;
        file.sync_all().map_err(io)?;
        Ok(key)
    }
}

impl fmt::Debug for AgentKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("AgentKey(<redacted>)")
    }
}

fn hash(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

/// The hashes of the keys the agent accepts.
#[derive(Clone)]
pub struct AgentKeys(Vec<[u8; 32]>);

impl AgentKeys {
    /// Read the keys file at `path`. A file with no key, or a line that is not a key's hash, is
    /// refused (the agent would answer nobody, or someone unintended).
    pub fn load(path: &Path) -> Result<Self, AgentError> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| AgentError::Setup(format!("reading the agent keys file {}: {e}", path.display())))?;
        let mut hashes = Vec::new();
        for (n, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
            let parsed = line
                .trim()
                .strip_prefix(LINE_PREFIX)
                .and_then(|h| hex::decode(h).ok())
                .and_then(|h| <[u8; 32]>::try_from(h).ok());
            match parsed {
                Some(h) => hashes.push(h),
                None => {
                    return Err(AgentError::Setup(format!(
                        "{} line {}: not an agent key hash (sha256:<64 hex digits>)",
                        path.display(),
                        n + 1
                    )))
                }
            }
        }
        if hashes.is_empty() {
            return Err(AgentError::Setup(format!(
                "{} holds no agent key: make one with `dyad agent key create --keys {}`",
                path.display(),
                path.display()
            )));
        }
        Ok(Self(hashes))
    }

    /// The keys of `keys` only (tests, embedding).
    pub fn of(keys: &[&AgentKey]) -> Self {
        Self(keys.iter().map(|k| hash(k.expose())).collect())
    }

    /// Is `presented` one of these keys? Every stored hash is compared, in constant time.
    pub fn accepts(&self, presented: &str) -> bool {
        let h = hash(presented);
        self.0
            .iter()
            .fold(subtle::Choice::from(0), |found, k| found | k.ct_eq(&h))
            .into()
    }
}

impl fmt::Debug for AgentKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "AgentKeys({} keys)", self.0.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_file_keeps_hashes_and_accepts_exactly_its_keys() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("agent.keys");
        let one = AgentKey::create_in(&path).unwrap();
        let two = AgentKey::create_in(&path).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(!text.contains(one.expose()) && !text.contains(two.expose()), "{text}");
        assert_eq!(text.lines().count(), 2);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
        let keys = AgentKeys::load(&path).unwrap();
        assert!(keys.accepts(one.expose()) && keys.accepts(two.expose()));
        assert!(!keys.accepts(AgentKey::random().expose()));
        assert!(!keys.accepts(""));
        assert!(!format!("{one:?}{keys:?}").contains(one.expose()));
    }

    #[test]
    fn an_empty_or_damaged_keys_file_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("agent.keys");
        std::fs::write(&path, "\n").unwrap();
        assert!(AgentKeys::load(&path)
            .unwrap_err()
            .to_string()
            .contains("holds no agent key"));
        std::fs::write(&path, "sha256:abcd\n").unwrap();
        assert!(AgentKeys::load(&path).unwrap_err().to_string().contains("line 1"));
        assert!(AgentKeys::load(&dir.path().join("missing")).is_err());
    }
}

//! Names of things: apps, wallets, ceremonies, environments.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::ProtoError;

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(pub uuid::Uuid);

        impl $name {
            /// A fresh random id.
            pub fn random() -> Self {
                Self(uuid::Uuid::new_v4())
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = ProtoError;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                uuid::Uuid::parse_str(s.trim())
                    .map(Self)
                    .map_err(|_| ProtoError::InvalidId(stringify!($name)))
            }
        }
    };
}

uuid_id!(
    /// A wallet, unique across the server.
    WalletId
);
uuid_id!(
    /// A DKLs key setup made ahead of time with one app (the warm setup pool): names the
    /// cloud's sealed half until one key generation uses it up.
    KeySetupId
);
uuid_id!(
    /// A person with an account: made at their first verified login, in one environment.
    UserId
);
uuid_id!(
    /// An app (tenant). Wallets, keys and audit records belong to exactly one app.
    AppId
);

/// The single-use capability that lets one WebSocket run one ceremony. 32 random bytes, hex on
/// the wire. Whoever holds it may run the ceremony, so it is short-lived and consumed on first use.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct CeremonyId(pub [u8; 32]);

impl CeremonyId {
    /// Fresh randomness from the operating system.
    pub fn random() -> Self {
        let mut b = [0u8; 32];
        // uuid's v4 generator uses getrandom; two of them give 32 random bytes without a new dependency.
        b[..16].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
        b[16..].copy_from_slice(uuid::Uuid::new_v4().as_bytes());
        Self(b)
    }
}

impl fmt::Display for CeremonyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&hex::encode(self.0))
    }
}

impl fmt::Debug for CeremonyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A capability: show only enough to correlate log lines.
        write!(f, "CeremonyId({}…)", &hex::encode(&self.0[..4]))
    }
}

impl FromStr for CeremonyId {
    type Err = ProtoError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut b = [0u8; 32];
        hex::decode_to_slice(s.trim(), &mut b).map_err(|_| ProtoError::InvalidId("CeremonyId"))?;
        Ok(Self(b))
    }
}

impl Serialize for CeremonyId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

impl<'de> Deserialize<'de> for CeremonyId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// Where an app runs. Wallets never cross environments.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Environment {
    /// Development and testing.
    Beta,
    /// Production.
    Prod,
}

impl Environment {
    /// The wire spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Environment::Beta => "BETA",
            Environment::Prod => "PROD",
        }
    }
}

impl fmt::Display for Environment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Environment {
    type Err = ProtoError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_uppercase().as_str() {
            "BETA" => Ok(Environment::Beta),
            "PROD" | "PRODUCTION" => Ok(Environment::Prod),
            _ => Err(ProtoError::InvalidEnvironment(s.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ceremony_id_roundtrips_and_debug_is_short() {
        let id = CeremonyId::random();
        assert_ne!(id, CeremonyId::random());
        let parsed: CeremonyId = id.to_string().parse().unwrap();
        assert_eq!(parsed, id);
        assert!(!format!("{id:?}").contains(&id.to_string()));
        assert!(matches!("zz".parse::<CeremonyId>(), Err(ProtoError::InvalidId(_))));
    }

    #[test]
    fn environment_parses() {
        assert_eq!("beta".parse::<Environment>().unwrap(), Environment::Beta);
        assert_eq!("PROD".parse::<Environment>().unwrap(), Environment::Prod);
        assert!(matches!(
            "staging".parse::<Environment>(),
            Err(ProtoError::InvalidEnvironment(_))
        ));
    }
}

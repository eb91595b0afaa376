//! The wallet types Dyad supports and the two-party scheme each one uses.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::{Scheme, TypesError};

/// A wallet type. Serialized and displayed as `"EVM"`, `"SOLANA"`, `"COSMOS"` or `"STELLAR"`;
/// [`FromStr`] also accepts other letter cases (for command lines), serde does not (the wire
/// format has one spelling).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum WalletType {
    /// Ethereum and EVM chains: secp256k1 ECDSA (DKLS).
    Evm,
    /// Solana: Ed25519 (FROST).
    Solana,
    /// Cosmos SDK chains: secp256k1 ECDSA (DKLS).
    Cosmos,
    /// Stellar: Ed25519 (FROST).
    Stellar,
}

impl WalletType {
    /// Every wallet type, in the order Dyad lists them.
    pub const ALL: [WalletType; 4] = [
        WalletType::Evm,
        WalletType::Solana,
        WalletType::Cosmos,
        WalletType::Stellar,
    ];

    /// The MPC scheme that holds this wallet type's keys.
    pub fn scheme(self) -> Scheme {
        match self {
            WalletType::Evm | WalletType::Cosmos => Scheme::Dkls,
            WalletType::Solana | WalletType::Stellar => Scheme::Frost,
        }
    }

    /// The wire and display name: `"EVM"`, `"SOLANA"`, `"COSMOS"` or `"STELLAR"`.
    pub fn as_str(self) -> &'static str {
        match self {
            WalletType::Evm => "EVM",
            WalletType::Solana => "SOLANA",
            WalletType::Cosmos => "COSMOS",
            WalletType::Stellar => "STELLAR",
        }
    }
}

impl fmt::Display for WalletType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for WalletType {
    type Err = TypesError;

    /// Parses a wallet type name in any letter case; anything else (including surrounding
    /// whitespace) is [`TypesError::UnknownWalletType`].
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        WalletType::ALL
            .into_iter()
            .find(|t| t.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| TypesError::unknown_wallet_type(s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemes_follow_the_design_table() {
        assert_eq!(WalletType::Evm.scheme(), Scheme::Dkls);
        assert_eq!(WalletType::Cosmos.scheme(), Scheme::Dkls);
        assert_eq!(WalletType::Solana.scheme(), Scheme::Frost);
        assert_eq!(WalletType::Stellar.scheme(), Scheme::Frost);
    }

    #[test]
    fn names_round_trip_through_display_from_str_and_serde() {
        for t in WalletType::ALL {
            assert_eq!(t.to_string(), t.as_str());
            assert_eq!(t.as_str().parse::<WalletType>().unwrap(), t);
            let json = serde_json::to_string(&t).unwrap();
            assert_eq!(json, format!("\"{}\"", t.as_str()));
            assert_eq!(serde_json::from_str::<WalletType>(&json).unwrap(), t);
        }
        assert_eq!(
            serde_json::to_string(&WalletType::ALL).unwrap(),
            r#"["EVM","SOLANA","COSMOS","STELLAR"]"#
        );
    }

    #[test]
    fn from_str_ignores_case_only() {
        assert_eq!("evm".parse::<WalletType>().unwrap(), WalletType::Evm);
        assert_eq!("Solana".parse::<WalletType>().unwrap(), WalletType::Solana);
        assert_eq!("cOsMoS".parse::<WalletType>().unwrap(), WalletType::Cosmos);
        for bad in ["", " EVM", "EVM ", "ETH", "BITCOIN", "ED25519", "DKLS", "stellarx"] {
            assert_eq!(
                bad.parse::<WalletType>(),
                Err(TypesError::UnknownWalletType(bad.to_owned())),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn unknown_wallet_type_error_is_cut_short() {
        let long = "x".repeat(10_000);
        let Err(TypesError::UnknownWalletType(name)) = long.parse::<WalletType>() else {
            panic!("expected UnknownWalletType");
        };
        assert_eq!(name.len(), 64);
    }

    #[test]
    fn serde_is_strict_about_case() {
        assert!(serde_json::from_str::<WalletType>(r#""evm""#).is_err());
        assert!(serde_json::from_str::<WalletType>(r#""Evm""#).is_err());
    }
}

//! Chain options a deployment can change.

use crate::cosmos;

/// Chain-specific options. The default is what a fresh deployment uses.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChainConfig {
    /// Bech32 human-readable prefix of COSMOS addresses: `"cosmos"` for the Cosmos Hub,
    /// `"osmo"` for Osmosis, and so on. Must be lower case.
    pub cosmos_prefix: String,
}

impl Default for ChainConfig {
    fn default() -> Self {
        ChainConfig {
            cosmos_prefix: cosmos::DEFAULT_PREFIX.to_owned(),
        }
    }
}

//! EIP-712 typed data. (Being written.)

use crate::transaction::Prepared;
use crate::ChainError;

/// Hash typed data JSON (as `eth_signTypedData_v4` takes it) into the digest to sign.
pub fn prepare(_json: &str) -> Result<Prepared, ChainError> {
    Err(ChainError::UnsupportedOperation("typed data is not built yet".into()))
}

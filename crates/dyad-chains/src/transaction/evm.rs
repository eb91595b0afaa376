//! EVM transactions. (Being written.)

use crate::transaction::{Prepared, SignedTransaction, Signer, TransactionRequest};
use crate::{ChainError, Signature};

/// Decode an unsigned EVM transaction for `signer`.
pub fn prepare(_signer: Signer<'_>, _request: &TransactionRequest) -> Result<Prepared, ChainError> {
    Err(ChainError::UnsupportedOperation(
        "EVM transactions are not built yet".into(),
    ))
}

/// Assemble the signed EVM transaction.
pub fn assemble(
    _signer: Signer<'_>,
    _request: &TransactionRequest,
    _signature: &Signature,
) -> Result<SignedTransaction, ChainError> {
    Err(ChainError::UnsupportedOperation(
        "EVM transactions are not built yet".into(),
    ))
}

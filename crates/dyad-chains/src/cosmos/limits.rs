//! How much one Cosmos sign doc may hold. Decoding is linear in the sign doc's size (coins are
//! summed through a map), so these bounds are what keep one request from stalling a server;
//! over one is [`ChainError::TooComplex`], naming it.

use crate::ChainError;

/// The largest sign doc accepted (a chain's own limit is usually about 1 MiB of tx bytes).
pub const MAX_SIGN_DOC_BYTES: usize = 1024 * 1024;

/// The most messages one transaction may carry here: the summary compares them pairwise, and no
/// real transaction needs more.
pub const MAX_MESSAGES: usize = 256;

/// The most coins the summary adds up in one sign doc: the bank sends' amounts and the fee
/// together. A send rarely carries more than a handful of denoms.
pub const MAX_COINS: usize = 1024;

/// Refuses a sign doc of more than [`MAX_SIGN_DOC_BYTES`], before it is decoded.
pub(super) fn check_sign_doc_size(len: usize) -> Result<(), ChainError> {
    if len > MAX_SIGN_DOC_BYTES {
        return Err(ChainError::TooComplex(format!(
            "COSMOS: the sign doc is {len} bytes, more than {MAX_SIGN_DOC_BYTES} (MAX_SIGN_DOC_BYTES)"
        )));
    }
    Ok(())
}

/// Refuses a transaction with more than [`MAX_MESSAGES`] messages.
pub(super) fn check_message_count(count: usize) -> Result<(), ChainError> {
    if count > MAX_MESSAGES {
        return Err(ChainError::TooComplex(format!(
            "COSMOS: {count} messages, more than {MAX_MESSAGES} (MAX_MESSAGES)"
        )));
    }
    Ok(())
}

/// How many coins one sign doc has shown so far, against [`MAX_COINS`].
#[derive(Default)]
pub(super) struct CoinBudget {
    seen: usize,
}

impl CoinBudget {
    /// Counts `n` more coins, refusing the doc once they are over [`MAX_COINS`] (before they
    /// are read).
    pub(super) fn take(&mut self, n: usize) -> Result<(), ChainError> {
        self.seen = self.seen.saturating_add(n);
        if self.seen > MAX_COINS {
            return Err(ChainError::TooComplex(format!(
                "COSMOS: more than {MAX_COINS} coins in the amounts and fee (MAX_COINS)"
            )));
        }
        Ok(())
    }
}

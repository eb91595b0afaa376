//! COSMOS transactions: decoding a sign doc in its mode, and assembling the signed form.
//!
//! What the accepted input is and what gets signed is documented on [`crate::cosmos`], which
//! re-exports [`prepare`] and [`assemble`].

use sha2::{Digest as _, Sha256};

use super::{amino, direct, limits, CosmosSignMode};
use crate::transaction::{Account, Prepared, SignedTransaction, TransactionRequest, TxSummary};
use crate::{secp256k1, ChainError, Digest, PublicKey, SignInput, Signature, WalletType};

/// Decode an unsigned COSMOS transaction for `account` (see the [module documentation](super)):
/// [`SignInput::Digest`] of sha256 of the request bytes and a [`TxSummary`].
///
/// The request's `chain_id` and `network_passphrase` must be absent (the Cosmos chain id is
/// inside the sign doc). [`ChainError::InvalidTransaction`] for a sign doc that does not decode
/// or is not in its canonical form, [`ChainError::NotASigner`] if the wallet is not one of its
/// signers.
pub fn prepare(account: Account<'_>, request: &TransactionRequest) -> Result<Prepared, ChainError> {
    let decoded = decode_request(account, request)?;
    Ok(Prepared {
        input: SignInput::Digest(Digest::from(digest(&request.bytes))),
        summary: decoded.summary,
    })
}

/// Assemble the signed COSMOS transaction from `signature`, made over [`prepare`]'s digest for
/// the same request.
///
/// The signature must be an ECDSA signature with recovery id 0 or 1 that verifies for the
/// digest under the wallet's key ([`ChainError::InvalidSignature`] otherwise), so a wrong
/// signature is caught here and not by the node. A high `s` is replaced by its low twin, as
/// [`crate::encode_signature`] does.
///
/// [`SignedTransaction::signature`] is the 64-byte `r ‖ s`;
/// [`SignedTransaction::signed_transaction`] is the protobuf `TxRaw` in direct mode and `None`
/// in amino mode.
pub fn assemble(
    account: Account<'_>,
    request: &TransactionRequest,
    signature: &Signature,
) -> Result<SignedTransaction, ChainError> {
    let decoded = decode_request(account, request)?;
    let canonical = secp256k1::canonical(signature)?;
    let r_bytes: [u8; 32] = canonical.r().to_be_bytes();
    let s_bytes: [u8; 32] = canonical.s().to_be_bytes();
    let on_chain = Signature::Secp256k1 {
        r: r_bytes,
        s: s_bytes,
        recovery_id: u8::from(canonical.v()),
    };
    crate::transaction::check_signature(
        account,
        &SignInput::Digest(Digest::from(digest(&request.bytes))),
        &on_chain,
        "sign doc",
    )?;
    let mut signature = Vec::with_capacity(64);
    signature.extend_from_slice(&r_bytes);
    signature.extend_from_slice(&s_bytes);

    let signed_transaction = decoded.slot.map(|slot| direct::tx_raw(slot, &signature));
    Ok(SignedTransaction {
        signature,
        signed_transaction,
    })
}

/// A request decoded far enough to sign it and, in direct mode, to assemble it.
pub(super) struct Decoded {
    pub(super) summary: TxSummary,
    /// Direct mode: where the wallet's signature goes. Amino: `None`.
    pub(super) slot: Option<SignatureSlot>,
}

/// The parts of a direct-mode sign doc that go into the `TxRaw`.
pub(super) struct SignatureSlot {
    pub(super) body_bytes: Vec<u8>,
    pub(super) auth_info_bytes: Vec<u8>,
    /// How many signer infos (so signatures) the transaction has.
    pub(super) signer_count: usize,
    /// The position of the wallet's signer info.
    pub(super) index: usize,
}

/// The sha256 a Cosmos secp256k1 key signs, in both sign modes.
fn digest(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

pub(super) fn invalid(message: impl Into<String>) -> ChainError {
    ChainError::InvalidTransaction(message.into())
}

/// Checks the signer and the request parameters, then decodes the sign doc in its mode.
fn decode_request(account: Account<'_>, request: &TransactionRequest) -> Result<Decoded, ChainError> {
    crate::transaction::check_request(account, request, WalletType::Cosmos)?;
    let PublicKey::Secp256k1(compressed) = account.public_key else {
        return Err(ChainError::KeyMismatch);
    };
    limits::check_sign_doc_size(request.bytes.len())?;
    match request.cosmos_sign_mode.unwrap_or_default() {
        CosmosSignMode::Direct => direct::decode_direct(compressed, &request.bytes),
        CosmosSignMode::Amino => amino::decode_amino(account.address, &request.bytes),
    }
}

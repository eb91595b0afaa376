//! One type for everything a wallet can be asked to sign, so that the server (when the request
//! arrives, and again inside the ceremony) and the SDK derive the signed bytes the same way.

use serde::{Deserialize, Serialize};

use crate::transaction::{self, Account, Prepared, SignedTransaction, TransactionRequest, TxSummary};
use crate::{encode_signature, message_sign_input, ChainError, Digest, SignInput, Signature};

/// A request to sign, as authorised. The variant is the operation, so policy can tell a message
/// from a transaction from a raw digest.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SignRequest {
    /// `signMessage`: the wallet type's message convention (EIP-191, ADR-036, SEP-53, Solana
    /// bytes that are no transaction; see [`crate::message_sign_input`]).
    Message(Vec<u8>),
    /// `signTransaction`.
    Transaction(TransactionRequest),
    /// `signTypedData`: EIP-712 JSON.
    TypedData(String),
    /// `signRaw`: a 32-byte digest signed as is.
    Raw(Digest),
}

impl SignRequest {
    /// The operation's name, as audit entries and policies spell it.
    pub fn operation(&self) -> &'static str {
        match self {
            SignRequest::Message(_) => "message",
            SignRequest::Transaction(_) => "transaction",
            SignRequest::TypedData(_) => "typed-data",
            SignRequest::Raw(_) => "raw",
        }
    }

    /// Decode the request for `account`: what to sign and what it is about. Fails on anything
    /// that does not decode or does not concern this wallet, before any ceremony.
    pub fn prepare(&self, account: Account<'_>) -> Result<Prepared, ChainError> {
        match self {
            SignRequest::Message(m) => Ok(Prepared {
                input: message_sign_input(account.wallet_type, account.address, m)?,
                summary: TxSummary {
                    chain: Some(account.wallet_type),
                    kind: "message".into(),
                    ..TxSummary::default()
                },
            }),
            SignRequest::Transaction(t) => transaction::prepare(account, t),
            SignRequest::TypedData(json) => transaction::prepare_typed_data(account, json),
            SignRequest::Raw(digest) => transaction::prepare_raw(account, *digest),
        }
    }

    /// The chain forms of `signature`, made over [`SignRequest::prepare`]'s input.
    pub fn finish(&self, account: Account<'_>, signature: &Signature) -> Result<SignedTransaction, ChainError> {
        match self {
            SignRequest::Transaction(t) => transaction::assemble(account, t, signature),
            _ => Ok(SignedTransaction {
                signature: encode_signature(account.wallet_type, signature)?,
                signed_transaction: None,
            }),
        }
    }
}

/// What the ceremony signs, for audit lines: a digest as `0x` hex; message bytes (Ed25519) as
/// `sha256:0x…` of them, so a large message does not bloat the log.
pub fn describe_input(input: &SignInput) -> String {
    use sha2::{Digest as _, Sha256};
    match input {
        SignInput::Digest(d) => dyad_types::hex0x::encode(d),
        SignInput::Message(m) => format!("sha256:{}", dyad_types::hex0x::encode(Sha256::digest(m))),
    }
}

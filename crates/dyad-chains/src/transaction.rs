//! Transactions, typed data and raw digests: decoding what an app asks to have signed into the
//! exact [`SignInput`] the ceremony signs, a small typed [`TxSummary`] for the audit log and the
//! policy layer, and, once signed, the chain's signed form.
//!
//! Everything is decoded **before** any ceremony starts: input that does not decode, names
//! another chain, or does not make the wallet a signer is rejected here. [`prepare`] and
//! [`assemble`] are pure and deterministic, so the server (at request time and again when the
//! ceremony runs) and the SDK (to compute its own sign input) all reach the same bytes.
//!
//! This module holds only what every chain shares: the request and result types, the checks
//! every chain makes first, and the dispatch on the wallet type. What a chain's transactions
//! are lives in that chain's module: [`evm`] (with [`evm::typed_data`] for EIP-712),
//! [`solana`], [`cosmos`], [`stellar`].

use serde::{Deserialize, Serialize};

use crate::{cosmos, evm, solana, stellar, ChainError, Digest, PublicKey, SignInput, Signature, WalletType};

/// The type of [`TransactionRequest::cosmos_sign_mode`], defined with the rest of Cosmos.
pub use crate::cosmos::CosmosSignMode;

/// An unsigned transaction as the app hands it over, with the parameters its chain needs.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransactionRequest {
    /// The transaction bytes (already decoded from hex/base64 at the edge).
    /// EVM: unsigned RLP (legacy 6 or 9 fields, or `type ‖ rlp(fields)`); SOLANA: a message or a
    /// wire transaction with empty signature slots; COSMOS: a `SignDoc` (direct) or amino JSON;
    /// STELLAR: a `TransactionEnvelope` XDR.
    pub bytes: Vec<u8>,
    /// EVM: the chain the app means to send on; must match the transaction's own.
    pub chain_id: Option<u64>,
    /// STELLAR: the network passphrase (e.g. "Test SDF Network ; September 2015").
    pub network_passphrase: Option<String>,
    /// COSMOS: direct (default) or amino.
    pub cosmos_sign_mode: Option<CosmosSignMode>,
}

/// What a signature request is about, decoded far enough for an audit line and a policy
/// decision. Amounts are decimal strings in the chain's base unit (wei, lamports, stroops, or
/// `"<amount><denom>"` for Cosmos coins) so nothing overflows.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TxSummary {
    /// EVM, SOLANA, COSMOS or STELLAR.
    pub chain: Option<WalletType>,
    /// What was decoded, e.g. `"eip1559"`, `"legacy"`, `"solana-v0"`, `"cosmos-direct"`,
    /// `"stellar-tx"`, `"eip712"`, `"raw-digest"`.
    pub kind: String,
    /// The EVM chain id, Cosmos chain id, or Stellar network passphrase's hash prefix.
    pub chain_id: Option<String>,
    /// Who receives value (addresses in the chain's own format).
    pub recipients: Vec<String>,
    /// Total value moved, in base units.
    pub value: Option<String>,
    /// The contract called (EVM) or contract/program touched.
    pub contract: Option<String>,
    /// The first four bytes of EVM calldata, `0x`-hex.
    pub function_selector: Option<String>,
    /// Solana program ids, Cosmos message type URLs, Stellar operation types.
    pub programs: Vec<String>,
    /// The most the transaction can pay in fees, in base units.
    pub fee: Option<String>,
}

/// A decoded request: what the ceremony signs and what it is about.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Prepared {
    /// Exactly what the two parties sign.
    pub input: SignInput,
    /// For audit and policy.
    pub summary: TxSummary,
}

/// A finished signature in the chain's forms.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedTransaction {
    /// The chain-encoded signature (EVM 65 bytes `r‖s‖v` with v = 27/28 for typed data and raw
    /// digests, or the transaction's own `v`/`yParity` convention folded to 27/28; others 64 bytes).
    pub signature: Vec<u8>,
    /// The signed transaction, ready to broadcast (EVM raw tx; Solana wire transaction; Cosmos
    /// `TxRaw` for direct mode; Stellar `TransactionEnvelope` XDR). `None` where the chain has no
    /// such form for the request (Cosmos amino, typed data, raw digests).
    pub signed_transaction: Option<Vec<u8>>,
}

/// The wallet a request is prepared for: its chain, key and address, which is all the chain
/// modules need to decide what it signs and whether a transaction concerns it. It holds no key
/// material and signs nothing itself.
#[derive(Clone, Copy, Debug)]
pub struct Account<'a> {
    /// The wallet's type.
    pub wallet_type: WalletType,
    /// Its group public key.
    pub public_key: &'a PublicKey,
    /// Its address (for Cosmos, with the configured prefix).
    pub address: &'a str,
}

/// Refuse a request for a chain module that is not the wallet's, or one carrying another
/// chain's parameters: the caller has mixed something up, and guessing which part was meant
/// could sign the wrong thing.
pub(crate) fn check_request(
    account: Account<'_>,
    request: &TransactionRequest,
    chain: WalletType,
) -> Result<(), ChainError> {
    if account.wallet_type != chain {
        return Err(ChainError::UnsupportedOperation(format!(
            "{chain} transactions are signed by {chain} wallets, not {}",
            account.wallet_type
        )));
    }
    if account.public_key.scheme() != chain.scheme() {
        return Err(ChainError::KeyMismatch);
    }
    let foreign = [
        (
            request.chain_id.is_some() && chain != WalletType::Evm,
            "chainId (an EVM chain id)",
        ),
        (
            request.network_passphrase.is_some() && chain != WalletType::Stellar,
            "networkPassphrase (Stellar)",
        ),
        (
            request.cosmos_sign_mode.is_some() && chain != WalletType::Cosmos,
            "the sign mode (Cosmos)",
        ),
    ];
    match foreign.iter().find(|(present, _)| *present) {
        Some((_, what)) => Err(ChainError::InvalidParameter(format!(
            "{what} does not apply to {chain} transactions"
        ))),
        None => Ok(()),
    }
}

/// Check `signature` against the wallet's key for `input` before it goes into a signed
/// transaction, so a wrong signature is caught here and never reaches a broadcast. `what` names
/// the signed object in the error ("transaction", "sign doc", "message").
pub(crate) fn check_signature(
    account: Account<'_>,
    input: &SignInput,
    signature: &Signature,
    what: &str,
) -> Result<(), ChainError> {
    account.public_key.verify(input, signature).map_err(|_| {
        ChainError::InvalidSignature(format!(
            "the signature does not verify for this {what} under the wallet's key"
        ))
    })
}

/// Decode an unsigned transaction for `account`: reject what does not decode, is unsupported,
/// names another chain, or does not need this wallet's signature.
pub fn prepare(account: Account<'_>, request: &TransactionRequest) -> Result<Prepared, ChainError> {
    match account.wallet_type {
        WalletType::Evm => evm::prepare(account, request),
        WalletType::Solana => solana::prepare(account, request),
        WalletType::Cosmos => cosmos::prepare(account, request),
        WalletType::Stellar => stellar::prepare(account, request),
    }
}

/// Put `signature` (made over [`prepare`]'s input for the same request) into the chain's signed
/// transaction.
pub fn assemble(
    account: Account<'_>,
    request: &TransactionRequest,
    signature: &Signature,
) -> Result<SignedTransaction, ChainError> {
    match account.wallet_type {
        WalletType::Evm => evm::assemble(account, request, signature),
        WalletType::Solana => solana::assemble(account, request, signature),
        WalletType::Cosmos => cosmos::assemble(account, request, signature),
        WalletType::Stellar => stellar::assemble(account, request, signature),
    }
}

/// EIP-712: the digest of typed data (JSON as `eth_signTypedData_v4` takes it). EVM only.
pub fn prepare_typed_data(account: Account<'_>, json: &str) -> Result<Prepared, ChainError> {
    match account.wallet_type {
        WalletType::Evm => evm::typed_data::prepare(json),
        other => Err(ChainError::UnsupportedOperation(format!(
            "typed data (EIP-712) is for EVM wallets, not {other}"
        ))),
    }
}

/// A caller-chosen 32-byte digest, signed as is. Dangerous (it can be any transaction's hash), so
/// it is its own operation that policy can refuse. secp256k1 wallets (EVM, COSMOS) only.
pub fn prepare_raw(account: Account<'_>, digest: Digest) -> Result<Prepared, ChainError> {
    match account.wallet_type {
        WalletType::Evm | WalletType::Cosmos => Ok(Prepared {
            input: SignInput::Digest(digest),
            summary: TxSummary {
                chain: Some(account.wallet_type),
                kind: "raw-digest".into(),
                ..TxSummary::default()
            },
        }),
        other => Err(ChainError::UnsupportedOperation(format!(
            "sign-raw signs a 32-byte secp256k1 digest; {other} wallets sign messages or transactions"
        ))),
    }
}

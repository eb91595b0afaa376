//! EVM transactions: legacy (signed with EIP-155 replay protection), EIP-2930 and EIP-1559.
//!
//! What the accepted input is and what gets signed is documented on [`crate::evm`], which
//! re-exports [`prepare`] and [`assemble`].

use alloy_consensus::transaction::RlpEcdsaDecodableTx;
use alloy_consensus::{SignableTransaction, Transaction, TxEip1559, TxEip2930, TxLegacy};
use alloy_primitives::{TxKind, U256};
use alloy_rlp::{Decodable, Header};

use crate::transaction::{Account, Prepared, SignedTransaction, TransactionRequest, TxSummary};
use crate::{secp256k1, ChainError, Digest, SignInput, Signature, WalletType};

/// The EIP-2718 type byte of an EIP-2930 (access list) transaction.
const TYPE_EIP2930: u8 = 0x01;
/// The EIP-2718 type byte of an EIP-1559 (dynamic fee) transaction.
const TYPE_EIP1559: u8 = 0x02;
/// The EIP-2718 type byte of an EIP-4844 (blob) transaction.
const TYPE_EIP4844: u8 = 0x03;
/// The EIP-2718 type byte of an EIP-7702 (set code) transaction.
const TYPE_EIP7702: u8 = 0x04;

/// Decode an unsigned EVM transaction for `account`: [`SignInput::Digest`] of its signing hash and
/// a [`TxSummary`] (`kind` is `"legacy"`, `"eip2930"` or `"eip1559"`; recipient and contract are
/// EIP-55 checksummed; value and fee (`gasLimit × gasPrice` or `gasLimit × maxFeePerGas`, the
/// most it can cost) are decimal wei).
///
/// `request.chain_id` is required and must match the chain id a transaction carries
/// ([`ChainError::ChainIdMismatch`] otherwise); the other request parameters must be absent.
pub fn prepare(account: Account<'_>, request: &TransactionRequest) -> Result<Prepared, ChainError> {
    let tx = decode_request(account, request)?;
    Ok(Prepared {
        input: SignInput::Digest(Digest::from(tx.signing_hash())),
        summary: tx.summary(),
    })
}

/// Assemble the signed EVM transaction from `signature`, made over [`prepare`]'s digest for the
/// same request.
///
/// The signature must be an ECDSA signature with recovery id 0 or 1 that verifies for the
/// transaction's signing hash under the wallet's key ([`ChainError::InvalidSignature`]
/// otherwise): a wrong recovery id would broadcast a transaction from some other address. A
/// high `s` is replaced by its low twin, as [`crate::encode_signature`] does.
///
/// [`SignedTransaction::signature`] is the 65-byte `r ‖ s ‖ v` with `v = 27 + yParity`, whatever
/// the transaction type; [`SignedTransaction::signed_transaction`] is the raw transaction.
pub fn assemble(
    account: Account<'_>,
    request: &TransactionRequest,
    signature: &Signature,
) -> Result<SignedTransaction, ChainError> {
    let tx = decode_request(account, request)?;
    let canonical = secp256k1::canonical(signature)?;
    let digest = tx.signing_hash();
    // Check the exact (r, s, parity) that goes on chain, so the sender the network recovers is
    // this wallet and nobody else.
    let on_chain = Signature::Secp256k1 {
        r: canonical.r().to_be_bytes(),
        s: canonical.s().to_be_bytes(),
        recovery_id: u8::from(canonical.v()),
    };
    crate::transaction::check_signature(
        account,
        &SignInput::Digest(Digest::from(digest)),
        &on_chain,
        "transaction",
    )?;
    Ok(SignedTransaction {
        signature: canonical.as_bytes().to_vec(),
        signed_transaction: Some(tx.encode_signed(canonical)),
    })
}

/// An unsigned transaction of a supported type, its chain id settled.
#[derive(Debug)]
enum UnsignedTx {
    /// `chain_id` is always `Some`: Dyad signs legacy transactions with EIP-155 only, because a
    /// pre-EIP-155 signature can be replayed on every chain.
    Legacy(TxLegacy),
    Eip2930(TxEip2930),
    Eip1559(TxEip1559),
}

impl UnsignedTx {
    /// keccak256 of the signing payload (EIP-155 form for legacy, `type ‖ rlp(fields)` for
    /// typed transactions).
    fn signing_hash(&self) -> [u8; 32] {
        match self {
            UnsignedTx::Legacy(tx) => tx.signature_hash().0,
            UnsignedTx::Eip2930(tx) => tx.signature_hash().0,
            UnsignedTx::Eip1559(tx) => tx.signature_hash().0,
        }
    }

    /// The EIP-2718 encoding with `signature` (for legacy the plain RLP list with the EIP-155
    /// `v`, which alloy derives from the transaction's chain id).
    fn encode_signed(self, signature: alloy_primitives::Signature) -> Vec<u8> {
        let mut out = Vec::new();
        match self {
            UnsignedTx::Legacy(tx) => tx.into_signed(signature).eip2718_encode(&mut out),
            UnsignedTx::Eip2930(tx) => tx.into_signed(signature).eip2718_encode(&mut out),
            UnsignedTx::Eip1559(tx) => tx.into_signed(signature).eip2718_encode(&mut out),
        }
        out
    }

    fn summary(&self) -> TxSummary {
        match self {
            UnsignedTx::Legacy(tx) => summarize(tx, "legacy"),
            UnsignedTx::Eip2930(tx) => summarize(tx, "eip2930"),
            UnsignedTx::Eip1559(tx) => summarize(tx, "eip1559"),
        }
    }
}

/// The summary of any supported transaction; `Transaction::max_fee_per_gas` is the gas price
/// for legacy and EIP-2930 transactions, so one formula gives the most the sender can pay.
fn summarize<T: Transaction>(tx: &T, kind: &str) -> TxSummary {
    let mut summary = TxSummary {
        chain: Some(WalletType::Evm),
        kind: kind.into(),
        chain_id: tx.chain_id().map(|id| id.to_string()),
        value: Some(tx.value().to_string()),
        // u64 × u128 < 2^192: no overflow in U256.
        fee: Some((U256::from(tx.gas_limit()) * U256::from(tx.max_fee_per_gas())).to_string()),
        ..TxSummary::default()
    };
    // A contract creation has no recipient yet, and its data is init code, not a call, so no
    // contract or selector either.
    if let TxKind::Call(to) = tx.kind() {
        let to = to.to_checksum(None);
        let input = tx.input();
        if let Some(selector) = input.get(..4) {
            summary.function_selector = Some(dyad_types::hex0x::encode(selector));
        }
        if !input.is_empty() {
            summary.contract = Some(to.clone());
        }
        summary.recipients.push(to);
    }
    summary
}

/// Checks the signer and the request parameters, then decodes the transaction.
fn decode_request(account: Account<'_>, request: &TransactionRequest) -> Result<UnsignedTx, ChainError> {
    crate::transaction::check_request(account, request, WalletType::Evm)?;
    let chain_id = match request.chain_id {
        None => {
            return Err(ChainError::InvalidParameter(
                "EVM transactions need chainId, the chain the transaction is meant for".into(),
            ))
        }
        // EIP-155 with chain id 0 is no replay protection at all.
        Some(0) => return Err(ChainError::InvalidParameter("chainId 0 is not an EVM chain".into())),
        Some(id) => id,
    };
    decode(&request.bytes, chain_id)
}

/// Decodes an unsigned transaction of the supported types and checks its chain id against
/// `requested` (a 6-field legacy transaction takes `requested`).
fn decode(bytes: &[u8], requested: u64) -> Result<UnsignedTx, ChainError> {
    let Some((&first, body)) = bytes.split_first() else {
        return Err(invalid("the transaction is empty"));
    };
    let (tx, found) = match first {
        // An RLP list: a legacy transaction (EIP-2718 keeps type bytes below 0x80 for this).
        0xc0..=0xff => {
            let tx = decode_legacy(bytes, requested)?;
            let found = tx.chain_id.unwrap_or(requested);
            (UnsignedTx::Legacy(tx), found)
        }
        TYPE_EIP2930 => {
            let tx: TxEip2930 = decode_typed(body, "EIP-2930")?;
            let found = tx.chain_id;
            (UnsignedTx::Eip2930(tx), found)
        }
        TYPE_EIP1559 => {
            let tx: TxEip1559 = decode_typed(body, "EIP-1559")?;
            let found = tx.chain_id;
            (UnsignedTx::Eip1559(tx), found)
        }
        TYPE_EIP4844 => {
            return Err(ChainError::UnsupportedTransaction(
                "EIP-4844 blob transactions (type 0x03) are not signed".into(),
            ))
        }
        TYPE_EIP7702 => {
            return Err(ChainError::UnsupportedTransaction(
                "EIP-7702 set-code transactions (type 0x04) are not signed".into(),
            ))
        }
        0x00 => {
            return Err(invalid(
                "0x00 is not a transaction type; a legacy transaction is a bare RLP list",
            ))
        }
        0x05..=0x7f => {
            return Err(ChainError::UnsupportedTransaction(format!(
                "transaction type {first:#04x} is not supported (legacy, 0x01 and 0x02 are)"
            )))
        }
        0x80..=0xbf => {
            return Err(invalid(
                "expected a legacy RLP list or an EIP-2718 type byte, found an RLP string",
            ))
        }
    };
    if found != requested {
        return Err(ChainError::ChainIdMismatch { requested, found });
    }
    Ok(tx)
}

/// A legacy transaction: 6 fields, or the EIP-155 signing form with `chainId, 0, 0`. The
/// returned transaction always carries a chain id (`requested` for the 6-field form).
fn decode_legacy(bytes: &[u8], requested: u64) -> Result<TxLegacy, ChainError> {
    let mut payload = list_payload(bytes)?;
    let mut tx = TxLegacy::rlp_decode_fields(&mut payload).map_err(|e| rlp_error("legacy fields", e))?;
    if payload.is_empty() {
        tx.chain_id = Some(requested);
        return Ok(tx);
    }
    // Three more fields: EIP-155's `chainId, 0, 0`, or a signature's `v, r, s`. Read them as
    // numbers first so a signed transaction is named as such rather than as a bad chain id.
    let mut extra = [U256::ZERO; 3];
    for field in &mut extra {
        *field = U256::decode(&mut payload)
            .map_err(|e| rlp_error("legacy fields (6, or 9 in the EIP-155 form chainId, 0, 0)", e))?;
    }
    if !payload.is_empty() {
        return Err(invalid(
            "a legacy transaction has 6 fields, or 9 in the EIP-155 form ending chainId, 0, 0",
        ));
    }
    let [chain_id, r, s] = extra;
    if !r.is_zero() || !s.is_zero() {
        return Err(already_signed());
    }
    let chain_id = u64::try_from(chain_id).map_err(|_| invalid("the EIP-155 chain id does not fit in 64 bits"))?;
    tx.chain_id = Some(chain_id);
    Ok(tx)
}

/// The fields of a typed transaction, `body` being everything after the type byte.
fn decode_typed<T: RlpEcdsaDecodableTx>(body: &[u8], name: &str) -> Result<T, ChainError> {
    let mut payload = list_payload(body)?;
    let tx = T::rlp_decode_fields(&mut payload).map_err(|e| rlp_error(&format!("{name} fields"), e))?;
    if payload.is_empty() {
        return Ok(tx);
    }
    // A signed typed transaction carries exactly three more items: yParity, r, s.
    if count_items(payload) == Some(3) {
        Err(already_signed())
    } else {
        Err(invalid(format!("extra fields after the {name} transaction's fields")))
    }
}

/// The payload of the single RLP list that `bytes` must be, nothing before or after it.
fn list_payload(mut bytes: &[u8]) -> Result<&[u8], ChainError> {
    let header = Header::decode(&mut bytes).map_err(|e| match e {
        // alloy-rlp checks the declared length against the input while reading the header.
        alloy_rlp::Error::InputTooShort => invalid("truncated: the RLP list is longer than the input"),
        other => rlp_error("transaction header", other),
    })?;
    if !header.list {
        return Err(invalid("the transaction is not an RLP list"));
    }
    if header.payload_length > bytes.len() {
        return Err(invalid("truncated: the RLP list is longer than the input"));
    }
    let (payload, rest) = bytes.split_at(header.payload_length);
    if !rest.is_empty() {
        return Err(invalid(format!("{} trailing bytes after the transaction", rest.len())));
    }
    Ok(payload)
}

/// How many whole RLP items `buf` holds; `None` if it is not a sequence of items.
fn count_items(mut buf: &[u8]) -> Option<usize> {
    let mut count = 0;
    while !buf.is_empty() {
        let header = Header::decode(&mut buf).ok()?;
        buf = buf.get(header.payload_length..)?;
        count += 1;
    }
    Some(count)
}

fn invalid(reason: impl Into<String>) -> ChainError {
    ChainError::InvalidTransaction(reason.into())
}

fn already_signed() -> ChainError {
    invalid("the transaction already carries a signature; send it unsigned")
}

/// alloy-rlp's messages are short fixed texts ("input too short", "leading zero"), never input.
fn rlp_error(what: &str, error: alloy_rlp::Error) -> ChainError {
    invalid(format!("{what}: {error}"))
}

//! STELLAR transactions: `TransactionEnvelope` XDR, v1 and fee-bump envelopes.
//!
//! What the accepted input is and what gets signed is documented on [`crate::stellar`], which
//! re-exports [`prepare`] and [`assemble`].

use sha2::{Digest, Sha256};
use stellar_xdr::{
    Asset, DecoratedSignature, Limits, MuxedAccount, OperationBody, Preconditions, ReadXdr, SignatureHint, SignerKey,
    Transaction, TransactionEnvelope, VecM, WriteXdr,
};

use crate::transaction::{Account, Prepared, SignedTransaction, TransactionRequest, TxSummary};
use crate::{ChainError, PublicKey, SignInput, Signature, WalletType};

/// The longest envelope accepted. Stellar's own limit for a transaction (the network setting
/// `txMaxSizeBytes`, about 130 KB for Soroban transactions) is well below this; the bound keeps
/// decoding cheap.
pub const MAX_ENVELOPE_BYTES: usize = 256 * 1024;

/// How deeply nested XDR may be. Soroban values nest, and decoding, re-encoding and dropping all
/// recurse on a server worker's stack, several depth units per level: 100 keeps that shallow
/// while ordinary payments and contract calls need far less.
const XDR_DEPTH_LIMIT: u32 = 100;

/// An envelope holds at most 20 signatures (`DecoratedSignature signatures<20>`).
const MAX_SIGNATURES: usize = 20;

/// The XDR length of one `DecoratedSignature`: a 4-byte hint, then the 64-byte signature as
/// variable-length opaque (4-byte length first).
const DECORATED_SIGNATURE_LEN: usize = 4 + 4 + 64;

/// Decode a STELLAR transaction envelope for `account`: [`SignInput::Message`] with the 32-byte
/// transaction hash for `request.network_passphrase` (required, [`ChainError::InvalidParameter`]
/// if missing or empty), and a [`TxSummary`]:
///
/// - `kind`: `"stellar-tx"`, or `"stellar-fee-bump"` for a fee-bump envelope (whose other fields
///   describe its inner transaction);
/// - `chain_id`: the first 8 hex digits of the network id `sha256(passphrase)` (`7ac33997` for
///   the public network, `cee0302d` for testnet);
/// - `recipients`: the destinations of `Payment` and `CreateAccount` operations as `G…` account
///   ids (a muxed destination as its underlying account);
/// - `value`: their amounts summed in stroops, when every one of them moves the native asset
///   (XLM); `None` when one moves another asset or there is no such operation. Other operations
///   (path payments, merges, contract calls) are not valued;
/// - `programs`: the operation types (`"Payment"`, `"InvokeHostFunction"`, …), each once;
/// - `fee`: the most the transaction can pay, in stroops (the fee-bump fee for a fee bump).
///
/// `chainId` and the Cosmos sign mode must be absent.
pub fn prepare(account: Account<'_>, request: &TransactionRequest) -> Result<Prepared, ChainError> {
    let decoded = decode_request(account, request)?;
    Ok(Prepared {
        input: SignInput::Message(decoded.hash.to_vec()),
        summary: decoded.summary()?,
    })
}

/// Assemble the signed STELLAR envelope (XDR) from `signature`, made over [`prepare`]'s hash for
/// the same request: the envelope with one more `DecoratedSignature` (hint = the last 4 bytes of
/// the wallet's public key).
///
/// The signature must verify for the hash under the wallet's key
/// ([`ChainError::InvalidSignature`] otherwise). [`SignedTransaction::signature`] is the 64-byte
/// signature; [`SignedTransaction::signed_transaction`] is the envelope XDR (base64 it for
/// Horizon or RPC).
pub fn assemble(
    account: Account<'_>,
    request: &TransactionRequest,
    signature: &Signature,
) -> Result<SignedTransaction, ChainError> {
    let mut decoded = decode_request(account, request)?;
    let Signature::Ed25519(bytes) = signature else {
        return Err(ChainError::KeyMismatch);
    };
    crate::transaction::check_signature(
        account,
        &SignInput::Message(decoded.hash.to_vec()),
        signature,
        "transaction",
    )?;
    let decorated = DecoratedSignature {
        hint: hint(&decoded.key),
        signature: stellar_xdr::Signature(
            bytes
                .to_vec()
                .try_into()
                .map_err(|_| invalid("a signature does not fit its XDR field"))?,
        ),
    };
    let signatures = match &mut decoded.envelope {
        TransactionEnvelope::Tx(envelope) => &mut envelope.signatures,
        TransactionEnvelope::TxFeeBump(envelope) => &mut envelope.signatures,
        TransactionEnvelope::TxV0(_) => return Err(v0_unsupported()),
    };
    let mut all = std::mem::take(signatures).into_vec();
    all.push(decorated);
    *signatures = VecM::try_from(all).map_err(|_| full())?;
    let envelope = decoded
        .envelope
        .to_xdr(limits(request.bytes.len() + DECORATED_SIGNATURE_LEN))
        .map_err(|e| invalid(&format!("the signed envelope does not encode: {e}")))?;
    Ok(SignedTransaction {
        signature: bytes.to_vec(),
        signed_transaction: Some(envelope),
    })
}

/// An envelope the wallet can sign, with its hash.
#[derive(Debug)]
struct Decoded {
    envelope: TransactionEnvelope,
    /// What Ed25519 signs: the `TransactionSignaturePayload` hash.
    hash: [u8; 32],
    /// `sha256(passphrase)`.
    network_id: [u8; 32],
    /// The wallet's public key.
    key: [u8; 32],
}

/// Checks the request's parameters and the wallet, then decodes the envelope.
fn decode_request(account: Account<'_>, request: &TransactionRequest) -> Result<Decoded, ChainError> {
    crate::transaction::check_request(account, request, WalletType::Stellar)?;
    let PublicKey::Ed25519(key) = account.public_key else {
        return Err(ChainError::KeyMismatch);
    };
    // The passphrase is part of the signed hash: without it the signature would be for no
    // network, or for one the caller did not choose.
    let passphrase =
        match request.network_passphrase.as_deref() {
            None | Some("") => return Err(ChainError::InvalidParameter(
                "STELLAR transactions need networkPassphrase, e.g. \"Public Global Stellar Network ; September 2015\""
                    .into(),
            )),
            Some(passphrase) => passphrase,
        };
    let network_id: [u8; 32] = Sha256::digest(passphrase.as_bytes()).into();
    decode(&request.bytes, network_id, *key)
}

/// Decodes the envelope in `bytes`, checks that `key` signs it, and hashes it for `network_id`.
fn decode(bytes: &[u8], network_id: [u8; 32], key: [u8; 32]) -> Result<Decoded, ChainError> {
    if bytes.is_empty() {
        return Err(invalid("the envelope is empty"));
    }
    if bytes.len() > MAX_ENVELOPE_BYTES {
        return Err(invalid(&format!(
            "{} bytes; at most {MAX_ENVELOPE_BYTES} are accepted",
            bytes.len()
        )));
    }
    let envelope = TransactionEnvelope::from_xdr(bytes, limits(bytes.len())).map_err(|e| xdr_error(&e))?;
    // XDR has one encoding per value, and stellar-xdr checks padding, booleans and union arms;
    // comparing the re-encoding makes sure the hash below is over exactly these bytes.
    match envelope.to_xdr(limits(bytes.len())) {
        Ok(again) if again == bytes => {}
        _ => return Err(invalid("not the canonical XDR encoding")),
    }

    let (signers, signatures) = match &envelope {
        TransactionEnvelope::TxV0(_) => return Err(v0_unsupported()),
        TransactionEnvelope::Tx(envelope) => (tx_signers(&envelope.tx), &envelope.signatures),
        TransactionEnvelope::TxFeeBump(envelope) => (vec![muxed_key(&envelope.tx.fee_source)], &envelope.signatures),
    };
    if !signers.contains(&key) {
        let role = match &envelope {
            TransactionEnvelope::TxFeeBump(_) => {
                "the fee source of this fee bump (sign the inner transaction before it is wrapped)"
            }
            _ => "a source account or extra signer of this transaction",
        };
        return Err(ChainError::NotASigner(format!(
            "the wallet {} is not {role}",
            account_id(&key)
        )));
    }
    if signatures.len() >= MAX_SIGNATURES {
        return Err(full());
    }

    let hash = envelope
        .hash(network_id)
        .map_err(|e| invalid(&format!("the transaction does not hash: {e}")))?;

    // A second signature by the same key is an unused signature, which the network refuses
    // (txBAD_AUTH_EXTRA); say so now rather than after a ceremony.
    let our_hint = hint(&key);
    let public_key = PublicKey::Ed25519(key);
    let message = SignInput::Message(hash.to_vec());
    for existing in signatures.iter().filter(|s| s.hint == our_hint) {
        if let Ok(signature) = <[u8; 64]>::try_from(existing.signature.0.as_slice()) {
            if public_key.verify(&message, &Signature::Ed25519(signature)).is_ok() {
                return Err(invalid("the envelope already holds this wallet's signature"));
            }
        }
    }

    Ok(Decoded {
        envelope,
        hash,
        network_id,
        key,
    })
}

/// The keys whose signature a v1 transaction asks for explicitly: its source, its operations'
/// sources and its Ed25519 extra signers. (Other keys may sign for these accounts through their
/// signer lists, which are on chain and not known here.)
fn tx_signers(tx: &Transaction) -> Vec<[u8; 32]> {
    let mut keys = vec![muxed_key(&tx.source_account)];
    keys.extend(
        tx.operations
            .iter()
            .filter_map(|op| op.source_account.as_ref())
            .map(muxed_key),
    );
    if let Preconditions::V2(conditions) = &tx.cond {
        keys.extend(conditions.extra_signers.iter().filter_map(|signer| match signer {
            SignerKey::Ed25519(key) => Some(key.0),
            _ => None,
        }));
    }
    keys
}

impl Decoded {
    fn summary(&self) -> Result<TxSummary, ChainError> {
        let (kind, tx, fee) = match &self.envelope {
            TransactionEnvelope::Tx(envelope) => ("stellar-tx", &envelope.tx, i64::from(envelope.tx.fee)),
            TransactionEnvelope::TxFeeBump(envelope) => {
                let stellar_xdr::FeeBumpTransactionInnerTx::Tx(inner) = &envelope.tx.inner_tx;
                ("stellar-fee-bump", &inner.tx, envelope.tx.fee)
            }
            TransactionEnvelope::TxV0(_) => return Err(v0_unsupported()),
        };
        let mut recipients = Vec::new();
        let mut programs: Vec<String> = Vec::new();
        // Some(sum) while every valued operation moves XLM; None once one moves another asset.
        let mut native_sum: Option<i128> = Some(0);
        let mut valued = false;
        for op in tx.operations.iter() {
            let name = op.body.name().to_owned();
            if !programs.contains(&name) {
                programs.push(name);
            }
            let (destination, amount, native) = match &op.body {
                OperationBody::Payment(payment) => (
                    muxed_key(&payment.destination),
                    payment.amount,
                    matches!(payment.asset, Asset::Native),
                ),
                OperationBody::CreateAccount(create) => {
                    let stellar_xdr::PublicKey::PublicKeyTypeEd25519(key) = &create.destination.0;
                    (key.0, create.starting_balance, true)
                }
                _ => continue,
            };
            // The network refuses negative amounts (the operation is malformed); refusing them
            // here keeps a negative amount from hiding a positive one in the summed value.
            if amount < 0 {
                return Err(invalid("an operation has a negative amount"));
            }
            valued = true;
            recipients.push(account_id(&destination));
            native_sum = match native_sum {
                Some(sum) if native => Some(sum + i128::from(amount)),
                _ => None,
            };
        }
        Ok(TxSummary {
            chain: Some(WalletType::Stellar),
            kind: kind.into(),
            chain_id: Some(hex::encode(&self.network_id[..4])),
            recipients,
            value: native_sum.filter(|_| valued).map(|sum| sum.to_string()),
            contract: None,
            function_selector: None,
            programs,
            fee: Some(fee.to_string()),
        })
    }
}

/// The Ed25519 key of a (possibly muxed) account: a muxed `M…` account is its `G…` account plus
/// a 64-bit id, and signs with the `G…` key.
fn muxed_key(account: &MuxedAccount) -> [u8; 32] {
    match account {
        MuxedAccount::Ed25519(key) => key.0,
        MuxedAccount::MuxedEd25519(muxed) => muxed.ed25519.0,
    }
}

/// The signature hint: the last 4 bytes of the public key, which is how the network finds the
/// signer a signature belongs to.
fn hint(key: &[u8; 32]) -> SignatureHint {
    SignatureHint([key[28], key[29], key[30], key[31]])
}

/// The `G…` account id of `key`.
fn account_id(key: &[u8; 32]) -> String {
    stellar_strkey::ed25519::PublicKey(*key).to_string().as_str().to_owned()
}

/// XDR limits for reading or writing at most `len` bytes.
fn limits(len: usize) -> Limits {
    Limits {
        depth: XDR_DEPTH_LIMIT,
        len,
    }
}

/// A short description of an XDR decoding error (stellar-xdr's messages never include input).
fn xdr_error(error: &stellar_xdr::Error) -> ChainError {
    match error {
        // The read limit is the input's length, so running into it also means the input ends
        // before the envelope does.
        stellar_xdr::Error::LengthLimitExceeded => invalid("truncated: the XDR ends early"),
        stellar_xdr::Error::Io(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
            invalid("truncated: the XDR ends early")
        }
        other => invalid(&format!("not a TransactionEnvelope: {other}")),
    }
}

fn v0_unsupported() -> ChainError {
    ChainError::UnsupportedTransaction(
        "STELLAR v0 envelopes (ENVELOPE_TYPE_TX_V0); rebuild the transaction as a v1 envelope".into(),
    )
}

fn full() -> ChainError {
    invalid("the envelope already holds 20 signatures, the most it can carry")
}

fn invalid(reason: &str) -> ChainError {
    ChainError::InvalidTransaction(format!("STELLAR: {reason}"))
}

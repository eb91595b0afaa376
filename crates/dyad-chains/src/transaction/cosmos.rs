//! COSMOS transactions: a `SignDoc` in `SIGN_MODE_DIRECT` (protobuf) or a legacy amino JSON
//! `StdSignDoc` (`SIGN_MODE_LEGACY_AMINO_JSON`), chosen by
//! [`TransactionRequest::cosmos_sign_mode`] (direct when absent).
//!
//! # Direct
//!
//! The request bytes are a protobuf `cosmos.tx.v1beta1.SignDoc { body_bytes, auth_info_bytes,
//! chain_id, account_number }`, as CosmJS `makeSignBytes(makeSignDoc(…))` produces it. The
//! bytes must be the SignDoc's canonical encoding (fields in order, none repeated, no unknown
//! fields, zero values left out, nothing after the last field): a node never sees the SignDoc,
//! it rebuilds one from the broadcast `TxRaw` and checks the signature over *its* encoding, so a
//! signature over any other spelling of the same values would be useless. `chain_id` must not
//! be empty. `body_bytes` must decode as a `TxBody` with at least one message and
//! `auth_info_bytes` as an `AuthInfo`; exactly one of its `signer_infos` must carry the
//! wallet's key as a `/cosmos.crypto.secp256k1.PubKey` ([`ChainError::NotASigner`] if none
//! does) and ask for `SIGN_MODE_DIRECT`.
//!
//! [`prepare`] signs sha256 of the request bytes exactly as given (never a re-encoding).
//! [`assemble`] returns the protobuf `TxRaw { body_bytes, auth_info_bytes, signatures }` ready
//! for `BroadcastTx`, with the wallet's 64-byte `r ‖ s` at its signer info's index and empty
//! signatures for any other signers (who add theirs before broadcasting).
//!
//! # Amino
//!
//! The request bytes are the UTF-8 JSON `StdSignDoc` exactly as CosmJS `serializeSignDoc`
//! writes it: keys sorted, no whitespace, strings escaped as `JSON.stringify` does and then
//! `&`, `<`, `>` as `\u0026`, `\u003c`, `\u003e`. Any other spelling is refused
//! ([`ChainError::InvalidTransaction`]) rather than normalised, because the node rebuilds the
//! canonical form and a signature over different bytes would not verify. The document must
//! have `account_number`, `chain_id` (not empty), `fee { amount, gas }` (and optionally
//! `granter`, `payer`), `memo`, `msgs` (at least one `{ type, value }`), `sequence` and
//! optionally `timeout_height`, and nothing else. Amino documents carry no public keys, so the
//! signer check is by address: if any message names a `from_address`, `sender`, `signer`,
//! `delegator_address`, `voter` or `depositor`, at least one of them must be the wallet's
//! address ([`ChainError::NotASigner`] otherwise).
//!
//! [`prepare`] signs sha256 of the request bytes; [`assemble`] returns the 64-byte `r ‖ s`
//! and no signed transaction (an amino `StdTx` is built by whoever holds the other
//! signatures).
//!
//! # Summary
//!
//! `kind` is `"cosmos-direct"` or `"cosmos-amino"`; `chain_id` the sign doc's; `recipients` the
//! `to_address` of every bank send (`/cosmos.bank.v1beta1.MsgSend`, amino
//! `cosmos-sdk/MsgSend`); `value` their coins summed per denom as `"<amount><denom>"` joined by
//! `,` (in order of first appearance); `programs` the message type URLs (amino: type names),
//! each once; `fee` the fee coins in the same form. `value` and `fee` are `None` when there are
//! no coins. Other messages (delegations, contract calls, IBC transfers) move value the summary
//! does not count: policy should look at `programs`.
//!
//! # Limits
//!
//! Decoding is linear in the sign doc's size (coins are summed through a map), and bounded:
//! at most [`MAX_SIGN_DOC_BYTES`] (1 MiB), [`MAX_MESSAGES`] (256) messages and [`MAX_COINS`]
//! (1024) coins in the bank sends' amounts and the fee together. Over a limit is
//! [`ChainError::TooComplex`], naming it.

use std::collections::HashMap;

use alloy_primitives::U256;
use prost::Message as _;
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::transaction::{Account, CosmosSignMode, Prepared, SignedTransaction, TransactionRequest, TxSummary};
use crate::{ecdsa, ChainError, PublicKey, SignInput, Signature, WalletType};

/// The `type_url` of a Cosmos SDK secp256k1 public key in a `SignerInfo`.
const SECP256K1_PUBKEY_TYPE_URL: &str = "/cosmos.crypto.secp256k1.PubKey";
/// The `type_url` of a bank send message.
const MSG_SEND_TYPE_URL: &str = "/cosmos.bank.v1beta1.MsgSend";
/// The amino type name of a bank send message.
const AMINO_MSG_SEND_TYPE: &str = "cosmos-sdk/MsgSend";
/// `cosmos.tx.signing.v1beta1.SignMode.SIGN_MODE_DIRECT`.
const SIGN_MODE_DIRECT: i32 = 1;
/// Message fields that name the account that has to sign the message, in the amino messages of
/// the Cosmos SDK modules (bank, staking, distribution, gov, IBC transfer, wasm, ADR-036).
const AMINO_SIGNER_FIELDS: [&str; 6] = [
    "from_address",
    "sender",
    "signer",
    "delegator_address",
    "voter",
    "depositor",
];
/// The longest piece of caller input (a JSON key) an error message quotes.
const MAX_QUOTED_CHARS: usize = 64;

/// The largest sign doc accepted (a chain's own limit is usually about 1 MiB of tx bytes).
pub const MAX_SIGN_DOC_BYTES: usize = 1024 * 1024;

/// The most messages one transaction may carry here: the summary compares them pairwise, and no
/// real transaction needs more.
pub const MAX_MESSAGES: usize = 256;

/// The most coins the summary adds up in one sign doc: the bank sends' amounts and the fee
/// together. A send rarely carries more than a handful of denoms.
pub const MAX_COINS: usize = 1024;

/// Decode an unsigned COSMOS transaction for `account` (see the module documentation):
/// [`SignInput::Digest`] of sha256 of the request bytes and a [`TxSummary`].
///
/// The request's `chain_id` and `network_passphrase` must be absent (the Cosmos chain id is
/// inside the sign doc). [`ChainError::InvalidTransaction`] for a sign doc that does not decode
/// or is not in its canonical form, [`ChainError::NotASigner`] if the wallet is not one of its
/// signers.
pub fn prepare(account: Account<'_>, request: &TransactionRequest) -> Result<Prepared, ChainError> {
    let decoded = decode_request(account, request)?;
    Ok(Prepared {
        input: SignInput::Digest(digest(&request.bytes)),
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
    let canonical = ecdsa::canonical(signature)?;
    let r_bytes: [u8; 32] = canonical.r().to_be_bytes();
    let s_bytes: [u8; 32] = canonical.s().to_be_bytes();
    let on_chain = Signature::Ecdsa {
        r: r_bytes,
        s: s_bytes,
        recovery_id: u8::from(canonical.v()),
    };
    super::check_signature(
        account,
        &SignInput::Digest(digest(&request.bytes)),
        &on_chain,
        "sign doc",
    )?;
    let mut signature = Vec::with_capacity(64);
    signature.extend_from_slice(&r_bytes);
    signature.extend_from_slice(&s_bytes);

    let signed_transaction = match decoded.slot {
        Some(slot) => {
            // Every signer info needs a signature entry in the same position; the other
            // signers fill theirs in before broadcasting.
            let signatures = (0..slot.signer_count)
                .map(|i| if i == slot.index { signature.clone() } else { Vec::new() })
                .collect();
            let tx_raw = proto::TxRaw {
                body_bytes: slot.body_bytes,
                auth_info_bytes: slot.auth_info_bytes,
                signatures,
            };
            Some(tx_raw.encode_to_vec())
        }
        None => None,
    };
    Ok(SignedTransaction {
        signature,
        signed_transaction,
    })
}

/// A request decoded far enough to sign it and, in direct mode, to assemble it.
struct Decoded {
    summary: TxSummary,
    /// Direct mode: where the wallet's signature goes. Amino: `None`.
    slot: Option<SignatureSlot>,
}

/// The parts of a direct-mode sign doc that go into the `TxRaw`.
struct SignatureSlot {
    body_bytes: Vec<u8>,
    auth_info_bytes: Vec<u8>,
    /// How many signer infos (so signatures) the transaction has.
    signer_count: usize,
    /// The position of the wallet's signer info.
    index: usize,
}

/// Refuses a transaction with more than [`MAX_MESSAGES`] messages.
fn check_message_count(count: usize) -> Result<(), ChainError> {
    if count > MAX_MESSAGES {
        return Err(ChainError::TooComplex(format!(
            "COSMOS: {count} messages, more than {MAX_MESSAGES} (MAX_MESSAGES)"
        )));
    }
    Ok(())
}

/// The sha256 a Cosmos secp256k1 key signs, in both sign modes.
fn digest(bytes: &[u8]) -> [u8; 32] {
    Sha256::digest(bytes).into()
}

fn invalid(message: impl Into<String>) -> ChainError {
    ChainError::InvalidTransaction(message.into())
}

/// Checks the signer and the request parameters, then decodes the sign doc in its mode.
fn decode_request(account: Account<'_>, request: &TransactionRequest) -> Result<Decoded, ChainError> {
    super::check_request(account, request, WalletType::Cosmos)?;
    let PublicKey::Secp256k1(compressed) = account.public_key else {
        return Err(ChainError::KeyMismatch);
    };
    if request.bytes.len() > MAX_SIGN_DOC_BYTES {
        return Err(ChainError::TooComplex(format!(
            "COSMOS: the sign doc is {} bytes, more than {MAX_SIGN_DOC_BYTES} (MAX_SIGN_DOC_BYTES)",
            request.bytes.len()
        )));
    }
    match request.cosmos_sign_mode.unwrap_or_default() {
        CosmosSignMode::Direct => decode_direct(compressed, &request.bytes),
        CosmosSignMode::Amino => decode_amino(account.address, &request.bytes),
    }
}

// ---------------------------------------------------------------------------------------------
// Direct mode
// ---------------------------------------------------------------------------------------------

fn decode_direct(wallet_key: &[u8; 33], bytes: &[u8]) -> Result<Decoded, ChainError> {
    let doc = proto::SignDoc::decode(bytes).map_err(|e| invalid(format!("not a protobuf SignDoc: {e}")))?;
    // Trailing bytes that parse as unknown fields, repeated fields, explicit zero values or
    // another field order all decode "fine" but are not what the node will verify.
    if doc.encode_to_vec() != bytes {
        return Err(invalid(
            "the SignDoc is not in its canonical protobuf encoding (fields in order, none repeated \
             or unknown, zero values left out, nothing after the last field); nodes verify the \
             signature over the canonical encoding",
        ));
    }
    if doc.chain_id.is_empty() {
        return Err(invalid("the SignDoc has an empty chain_id"));
    }
    let body = proto::TxBody::decode(doc.body_bytes.as_slice())
        .map_err(|e| invalid(format!("body_bytes is not a protobuf TxBody: {e}")))?;
    let auth_info = proto::AuthInfo::decode(doc.auth_info_bytes.as_slice())
        .map_err(|e| invalid(format!("auth_info_bytes is not a protobuf AuthInfo: {e}")))?;
    check_message_count(body.messages.len())?;
    if body.messages.is_empty() {
        return Err(invalid("the transaction has no messages"));
    }
    let index = wallet_signer_index(wallet_key, &auth_info.signer_infos)?;

    let mut summary = SummaryBuilder::default();
    let mut coins = CoinBudget::default();
    for (i, message) in body.messages.iter().enumerate() {
        summary.program(&message.type_url);
        if message.type_url == MSG_SEND_TYPE_URL {
            let send = proto::MsgSend::decode(message.value.as_slice())
                .map_err(|e| invalid(format!("message {i} is not a MsgSend: {e}")))?;
            summary.recipient(&send.to_address);
            coins.take(send.amount.len())?;
            for (j, coin) in send.amount.iter().enumerate() {
                summary
                    .value
                    .add(&coin.denom, &coin.amount, &format!("message {i} amount {j}"))?;
            }
        }
    }
    let mut fee = CoinTotals::default();
    if let Some(f) = &auth_info.fee {
        coins.take(f.amount.len())?;
        for (j, coin) in f.amount.iter().enumerate() {
            fee.add(&coin.denom, &coin.amount, &format!("fee amount {j}"))?;
        }
    }

    let signer_count = auth_info.signer_infos.len();
    Ok(Decoded {
        summary: summary.finish("cosmos-direct", doc.chain_id, &fee),
        slot: Some(SignatureSlot {
            body_bytes: doc.body_bytes,
            auth_info_bytes: doc.auth_info_bytes,
            signer_count,
            index,
        }),
    })
}

/// The index of the one signer info that carries `wallet_key` as a secp256k1 key and asks for
/// direct signing.
fn wallet_signer_index(wallet_key: &[u8; 33], signer_infos: &[proto::SignerInfo]) -> Result<usize, ChainError> {
    let mut found: Option<(usize, &proto::SignerInfo)> = None;
    for (i, info) in signer_infos.iter().enumerate() {
        let Some(any) = &info.public_key else {
            continue;
        };
        if any.type_url != SECP256K1_PUBKEY_TYPE_URL {
            continue;
        }
        let key = proto::PubKey::decode(any.value.as_slice()).map_err(|e| {
            invalid(format!(
                "signer info {i}: the secp256k1 public key does not decode: {e}"
            ))
        })?;
        if key.key.as_slice() != wallet_key.as_slice() {
            continue;
        }
        // The node matches signatures to signer infos by position; two entries for one key
        // would need the same signature twice and do not come from a well-formed transaction.
        if found.is_some() {
            return Err(invalid("the wallet's key is in more than one signer info"));
        }
        found = Some((i, info));
    }
    let Some((index, info)) = found else {
        return Err(ChainError::NotASigner(
            "no signer info carries the wallet's secp256k1 public key".into(),
        ));
    };
    // In another mode the node would verify the signature over other bytes than these.
    let direct = matches!(
        info.mode_info.as_ref().and_then(|m| m.sum.as_ref()),
        Some(proto::ModeInfoSum::Single(single)) if single.mode == SIGN_MODE_DIRECT
    );
    if !direct {
        return Err(invalid(format!(
            "signer info {index} (the wallet's) does not ask for SIGN_MODE_DIRECT"
        )));
    }
    Ok(index)
}

// ---------------------------------------------------------------------------------------------
// Amino mode
// ---------------------------------------------------------------------------------------------

type JsonObject = serde_json::Map<String, Value>;

fn decode_amino(wallet_address: &str, bytes: &[u8]) -> Result<Decoded, ChainError> {
    let text = std::str::from_utf8(bytes).map_err(|_| invalid("the amino sign doc is not UTF-8"))?;
    // serde_json's messages give a line and column, never the input itself.
    let value: Value =
        serde_json::from_str(text).map_err(|e| invalid(format!("the amino sign doc is not JSON: {e}")))?;
    if canonical_json(&value) != text {
        return Err(invalid(
            "the amino sign doc must be in its canonical form, as CosmJS serializeSignDoc writes it: \
             keys sorted, no whitespace, and &, <, > escaped as \\u0026, \\u003c, \\u003e",
        ));
    }

    let doc = object(&value, "the amino sign doc")?;
    only_keys(
        doc,
        &[
            "account_number",
            "chain_id",
            "fee",
            "memo",
            "msgs",
            "sequence",
            "timeout_height",
        ],
        "the amino sign doc",
    )?;
    uint_string(doc, "account_number", "the amino sign doc")?;
    uint_string(doc, "sequence", "the amino sign doc")?;
    if doc.contains_key("timeout_height") {
        uint_string(doc, "timeout_height", "the amino sign doc")?;
    }
    string(doc, "memo", "the amino sign doc")?;
    let chain_id = string(doc, "chain_id", "the amino sign doc")?;
    if chain_id.is_empty() {
        return Err(invalid("the amino sign doc has an empty chain_id"));
    }

    let fee_doc = object(required(doc, "fee", "the amino sign doc")?, "fee")?;
    only_keys(fee_doc, &["amount", "gas", "granter", "payer"], "fee")?;
    uint_string(fee_doc, "gas", "fee")?;
    for optional in ["granter", "payer"] {
        if fee_doc.contains_key(optional) {
            string(fee_doc, optional, "fee")?;
        }
    }
    let mut coins = CoinBudget::default();
    let mut fee = CoinTotals::default();
    add_amino_coins(&mut fee, &mut coins, fee_doc, "fee")?;

    let Some(msgs) = required(doc, "msgs", "the amino sign doc")?.as_array() else {
        return Err(invalid("msgs must be an array"));
    };
    check_message_count(msgs.len())?;
    if msgs.is_empty() {
        return Err(invalid("the transaction has no messages"));
    }
    let mut summary = SummaryBuilder::default();
    let mut named_signers = 0usize;
    let mut wallet_named = false;
    for (i, msg) in msgs.iter().enumerate() {
        let what = format!("msgs[{i}]");
        let msg = object(msg, &what)?;
        only_keys(msg, &["type", "value"], &what)?;
        let kind = string(msg, "type", &what)?;
        let value_what = format!("msgs[{i}].value");
        let value = object(required(msg, "value", &what)?, &value_what)?;
        summary.program(kind);
        for field in AMINO_SIGNER_FIELDS {
            if let Some(Value::String(named)) = value.get(field) {
                named_signers += 1;
                wallet_named |= named == wallet_address;
            }
        }
        if kind == AMINO_MSG_SEND_TYPE {
            summary.recipient(string(value, "to_address", &value_what)?);
            add_amino_coins(&mut summary.value, &mut coins, value, &value_what)?;
        }
    }
    if named_signers > 0 && !wallet_named {
        return Err(ChainError::NotASigner(
            "no message names the wallet's address as its sender or signer".into(),
        ));
    }

    Ok(Decoded {
        summary: summary.finish("cosmos-amino", chain_id.to_owned(), &fee),
        slot: None,
    })
}

/// `value` as CosmJS `serializeSignDoc` writes it: `JSON.stringify` of the value with every
/// object's keys sorted, then `&`, `<`, `>` escaped.
fn canonical_json(value: &Value) -> String {
    let mut out = String::new();
    write_canonical(value, &mut out);
    out
}

fn write_canonical(value: &Value, out: &mut String) {
    // Recursion is bounded: serde_json refuses documents nested deeper than 128 levels.
    match value {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => out.push_str(&n.to_string()),
        Value::String(s) => out.push_str(&json_string(s)),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            // JavaScript's default sort compares UTF-16 code units, which differs from Rust's
            // byte (code point) order for keys mixing characters above U+FFFF with U+E000..U+FFFF.
            // The order is set here rather than by the map, whose order depends on serde_json's
            // "preserve_order" feature anywhere in the build.
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_by(|a, b| a.0.encode_utf16().cmp(b.0.encode_utf16()));
            out.push('{');
            for (i, (key, item)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&json_string(key));
                out.push(':');
                write_canonical(item, out);
            }
            out.push('}');
        }
    }
}

/// `s` as a JSON string literal as `JSON.stringify` writes it, then CosmJS `escapeCharacters`
/// (which runs over the whole document, but `&`, `<` and `>` can only occur inside strings).
/// serde_json escapes the same characters as `JSON.stringify` (see `crate::cosmos`).
fn json_string(s: &str) -> String {
    Value::String(s.to_owned())
        .to_string()
        .replace('&', "\\u0026")
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
}

/// At most [`MAX_QUOTED_CHARS`] characters of `s`, for error messages.
fn quoted(s: &str) -> String {
    let cut: String = s.chars().take(MAX_QUOTED_CHARS).collect();
    if cut.len() < s.len() {
        format!("{cut:?}…")
    } else {
        format!("{cut:?}")
    }
}

fn object<'a>(value: &'a Value, what: &str) -> Result<&'a JsonObject, ChainError> {
    value
        .as_object()
        .ok_or_else(|| invalid(format!("{what} must be a JSON object")))
}

fn required<'a>(parent: &'a JsonObject, key: &str, what: &str) -> Result<&'a Value, ChainError> {
    parent.get(key).ok_or_else(|| invalid(format!("{what} has no {key}")))
}

fn string<'a>(parent: &'a JsonObject, key: &str, what: &str) -> Result<&'a str, ChainError> {
    required(parent, key, what)?
        .as_str()
        .ok_or_else(|| invalid(format!("{what}: {key} must be a string")))
}

/// A uint64 written as a decimal string without leading zeros, as amino JSON writes them.
fn uint_string(parent: &JsonObject, key: &str, what: &str) -> Result<u64, ChainError> {
    let s = string(parent, key, what)?;
    let canonical = !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) && (s == "0" || !s.starts_with('0'));
    match s.parse::<u64>() {
        Ok(n) if canonical => Ok(n),
        _ => Err(invalid(format!(
            "{what}: {key} must be a uint64 as a decimal string without leading zeros"
        ))),
    }
}

/// Refuses fields the document type does not have: they would be signed but not shown.
fn only_keys(parent: &JsonObject, allowed: &[&str], what: &str) -> Result<(), ChainError> {
    match parent.keys().find(|k| !allowed.contains(&k.as_str())) {
        Some(key) => Err(invalid(format!(
            "{what} has an unexpected field {} (expected only {})",
            quoted(key),
            allowed.join(", ")
        ))),
        None => Ok(()),
    }
}

/// Adds `parent.amount`, an array of amino coins `{ amount, denom }`, to `totals`, counting
/// them against `budget`.
fn add_amino_coins(
    totals: &mut CoinTotals,
    budget: &mut CoinBudget,
    parent: &JsonObject,
    what: &str,
) -> Result<(), ChainError> {
    let Some(coins) = required(parent, "amount", what)?.as_array() else {
        return Err(invalid(format!("{what}: amount must be an array of coins")));
    };
    budget.take(coins.len())?;
    for (j, coin) in coins.iter().enumerate() {
        let coin_what = format!("{what}.amount[{j}]");
        let coin = object(coin, &coin_what)?;
        only_keys(coin, &["amount", "denom"], &coin_what)?;
        totals.add(
            string(coin, "denom", &coin_what)?,
            string(coin, "amount", &coin_what)?,
            &coin_what,
        )?;
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Summary
// ---------------------------------------------------------------------------------------------

/// What both modes collect for the [`TxSummary`].
#[derive(Default)]
struct SummaryBuilder {
    recipients: Vec<String>,
    value: CoinTotals,
    programs: Vec<String>,
}

impl SummaryBuilder {
    fn program(&mut self, name: &str) {
        if !self.programs.iter().any(|p| p == name) {
            self.programs.push(name.to_owned());
        }
    }

    fn recipient(&mut self, address: &str) {
        if !self.recipients.iter().any(|r| r == address) {
            self.recipients.push(address.to_owned());
        }
    }

    fn finish(self, kind: &str, chain_id: String, fee: &CoinTotals) -> TxSummary {
        TxSummary {
            chain: Some(WalletType::Cosmos),
            kind: kind.to_owned(),
            chain_id: Some(chain_id),
            recipients: self.recipients,
            value: self.value.render(),
            contract: None,
            function_selector: None,
            programs: self.programs,
            fee: fee.render(),
        }
    }
}

/// How many coins one sign doc has shown so far, against [`MAX_COINS`].
#[derive(Default)]
struct CoinBudget {
    seen: usize,
}

impl CoinBudget {
    /// Counts `n` more coins, refusing the doc once they are over [`MAX_COINS`] (before they
    /// are read).
    fn take(&mut self, n: usize) -> Result<(), ChainError> {
        self.seen = self.seen.saturating_add(n);
        if self.seen > MAX_COINS {
            return Err(ChainError::TooComplex(format!(
                "COSMOS: more than {MAX_COINS} coins in the amounts and fee (MAX_COINS)"
            )));
        }
        Ok(())
    }
}

/// Coin amounts summed per denom, in the order denoms first appear.
#[derive(Default)]
struct CoinTotals {
    totals: Vec<(String, U256)>,
    /// Where each denom's total is in `totals`, so adding a coin does not scan them.
    index: HashMap<String, usize>,
}

impl CoinTotals {
    /// Adds one coin after checking it the way the Cosmos SDK does (`sdk.ValidateDenom`; an
    /// amount is a non-negative integer of at most 256 bits), so `"<amount><denom>"` cannot be
    /// read two ways.
    fn add(&mut self, denom: &str, amount: &str, what: &str) -> Result<(), ChainError> {
        if !is_valid_denom(denom) {
            return Err(invalid(format!(
                "{what}: the denom is not a valid Cosmos denom ([a-zA-Z][a-zA-Z0-9/:._-]{{2,127}})"
            )));
        }
        let bad_amount = || invalid(format!("{what}: the amount must be a decimal integer below 2^256"));
        // ruint's parser would also take '_' separators; Cosmos amounts are plain digits.
        if amount.is_empty() || !amount.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad_amount());
        }
        let amount = U256::from_str_radix(amount, 10).map_err(|_| bad_amount())?;
        let existing = self.index.get(denom).copied();
        match existing.and_then(|i| self.totals.get_mut(i)) {
            Some((_, total)) => {
                *total = total
                    .checked_add(amount)
                    .ok_or_else(|| invalid(format!("{what}: the {denom} total does not fit in 256 bits")))?;
            }
            None => {
                self.index.insert(denom.to_owned(), self.totals.len());
                self.totals.push((denom.to_owned(), amount));
            }
        }
        Ok(())
    }

    /// `"<amount><denom>"` per denom, joined by `,`; `None` when there are no coins.
    fn render(&self) -> Option<String> {
        if self.totals.is_empty() {
            return None;
        }
        let parts: Vec<String> = self
            .totals
            .iter()
            .map(|(denom, amount)| format!("{amount}{denom}"))
            .collect();
        Some(parts.join(","))
    }
}

/// The Cosmos SDK's default denom rule: `[a-zA-Z][a-zA-Z0-9/:._-]{2,127}`.
fn is_valid_denom(denom: &str) -> bool {
    let bytes = denom.as_bytes();
    (3..=128).contains(&bytes.len())
        && bytes.first().is_some_and(u8::is_ascii_alphabetic)
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'/' | b':' | b'.' | b'_' | b'-'))
}

/// The Cosmos SDK protobuf messages this module reads or writes, declared from the SDK's
/// `.proto` files (v0.50: `cosmos/tx/v1beta1/tx.proto`, `cosmos/base/v1beta1/coin.proto`,
/// `cosmos/crypto/secp256k1/keys.proto`, `cosmos/bank/v1beta1/tx.proto`,
/// `google/protobuf/any.proto`) instead of depending on a crate that generates all of the SDK.
/// `SignDoc` and `TxRaw` are re-encoded, so they are complete; the others declare only the
/// fields read here (prost skips the rest, as the Go decoder does).
mod proto {
    /// `cosmos.tx.v1beta1.SignDoc`.
    #[derive(Clone, PartialEq, prost::Message)]
    pub(super) struct SignDoc {
        #[prost(bytes = "vec", tag = "1")]
        pub body_bytes: Vec<u8>,
        #[prost(bytes = "vec", tag = "2")]
        pub auth_info_bytes: Vec<u8>,
        #[prost(string, tag = "3")]
        pub chain_id: String,
        #[prost(uint64, tag = "4")]
        pub account_number: u64,
    }

    /// `cosmos.tx.v1beta1.TxRaw`.
    #[derive(Clone, PartialEq, prost::Message)]
    pub(super) struct TxRaw {
        #[prost(bytes = "vec", tag = "1")]
        pub body_bytes: Vec<u8>,
        #[prost(bytes = "vec", tag = "2")]
        pub auth_info_bytes: Vec<u8>,
        #[prost(bytes = "vec", repeated, tag = "3")]
        pub signatures: Vec<Vec<u8>>,
    }

    /// `google.protobuf.Any`.
    #[derive(Clone, PartialEq, prost::Message)]
    pub(super) struct Any {
        #[prost(string, tag = "1")]
        pub type_url: String,
        #[prost(bytes = "vec", tag = "2")]
        pub value: Vec<u8>,
    }

    /// `cosmos.tx.v1beta1.TxBody` (messages only; memo, timeout and extensions are skipped).
    #[derive(Clone, PartialEq, prost::Message)]
    pub(super) struct TxBody {
        #[prost(message, repeated, tag = "1")]
        pub messages: Vec<Any>,
    }

    /// `cosmos.tx.v1beta1.AuthInfo` (the deprecated `tip` is skipped).
    #[derive(Clone, PartialEq, prost::Message)]
    pub(super) struct AuthInfo {
        #[prost(message, repeated, tag = "1")]
        pub signer_infos: Vec<SignerInfo>,
        #[prost(message, optional, tag = "2")]
        pub fee: Option<Fee>,
    }

    /// `cosmos.tx.v1beta1.SignerInfo` (the sequence is skipped).
    #[derive(Clone, PartialEq, prost::Message)]
    pub(super) struct SignerInfo {
        #[prost(message, optional, tag = "1")]
        pub public_key: Option<Any>,
        #[prost(message, optional, tag = "2")]
        pub mode_info: Option<ModeInfo>,
    }

    /// `cosmos.tx.v1beta1.ModeInfo`.
    #[derive(Clone, PartialEq, prost::Message)]
    pub(super) struct ModeInfo {
        #[prost(oneof = "ModeInfoSum", tags = "1, 2")]
        pub sum: Option<ModeInfoSum>,
    }

    /// The `sum` oneof of `ModeInfo`.
    #[derive(Clone, PartialEq, prost::Oneof)]
    pub(super) enum ModeInfoSum {
        #[prost(message, tag = "1")]
        Single(ModeInfoSingle),
        #[prost(message, tag = "2")]
        Multi(ModeInfoMulti),
    }

    /// `cosmos.tx.v1beta1.ModeInfo.Single` (the mode is the `SignMode` enum's number).
    #[derive(Clone, PartialEq, prost::Message)]
    pub(super) struct ModeInfoSingle {
        #[prost(int32, tag = "1")]
        pub mode: i32,
    }

    /// `cosmos.tx.v1beta1.ModeInfo.Multi`: only told apart from `Single`, never read (a
    /// multisig key is not the wallet's key).
    #[derive(Clone, PartialEq, prost::Message)]
    pub(super) struct ModeInfoMulti {}

    /// `cosmos.tx.v1beta1.Fee` (gas limit, payer and granter are skipped).
    #[derive(Clone, PartialEq, prost::Message)]
    pub(super) struct Fee {
        #[prost(message, repeated, tag = "1")]
        pub amount: Vec<Coin>,
    }

    /// `cosmos.base.v1beta1.Coin`.
    #[derive(Clone, PartialEq, prost::Message)]
    pub(super) struct Coin {
        #[prost(string, tag = "1")]
        pub denom: String,
        #[prost(string, tag = "2")]
        pub amount: String,
    }

    /// `cosmos.crypto.secp256k1.PubKey`.
    #[derive(Clone, PartialEq, prost::Message)]
    pub(super) struct PubKey {
        #[prost(bytes = "vec", tag = "1")]
        pub key: Vec<u8>,
    }

    /// `cosmos.bank.v1beta1.MsgSend` (`from_address` is skipped: the signer check is by key).
    #[derive(Clone, PartialEq, prost::Message)]
    pub(super) struct MsgSend {
        #[prost(string, tag = "2")]
        pub to_address: String,
        #[prost(message, repeated, tag = "3")]
        pub amount: Vec<Coin>,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_json_sorts_by_utf16_and_escapes_like_cosmjs() {
        // U+10000 sorts after U+FF5E by code point but before it by UTF-16 code unit
        // (its high surrogate 0xD800 < 0xFF5E), which is what JavaScript's sort uses (checked
        // with node: Object.keys({"\uff5e":1,"\ud800\udc00":2}).sort()).
        let value: Value = serde_json::from_str(r#"{"b":1,"\ud800\udc00":2,"\uff5e":3,"a":"<&>"}"#).unwrap();
        assert_eq!(
            canonical_json(&value),
            "{\"a\":\"\\u003c\\u0026\\u003e\",\"b\":1,\"\u{10000}\":2,\"\u{ff5e}\":3}"
        );
        // The cosmjs signdoc.spec.ts sortedJsonStringify cases.
        let value: Value =
            serde_json::from_str(r#"[1,2,{"b":{"z":true,"x":true,"y":true},"a":true,"c":true},4]"#).unwrap();
        assert_eq!(
            canonical_json(&value),
            r#"[1,2,{"a":true,"b":{"x":true,"y":true,"z":true},"c":true},4]"#
        );
        let value: Value = serde_json::from_str(r#"[5,["a","b"],true,null,1]"#).unwrap();
        assert_eq!(canonical_json(&value), r#"[5,["a","b"],true,null,1]"#);
    }

    #[test]
    fn coin_totals_validate_and_sum() {
        let mut totals = CoinTotals::default();
        totals.add("uatom", "5", "t").unwrap();
        totals
            .add(
                "ibc/27394FB092D2ECCD56123C74F36E4C1F926001CEADA9CA97EA622B25F41E5EB2",
                "7",
                "t",
            )
            .unwrap();
        totals.add("uatom", "0010", "t").unwrap();
        assert_eq!(
            totals.render().unwrap(),
            "15uatom,7ibc/27394FB092D2ECCD56123C74F36E4C1F926001CEADA9CA97EA622B25F41E5EB2"
        );
        assert_eq!(CoinTotals::default().render(), None);
        for (denom, amount) in [
            ("uatom", ""),
            ("uatom", "-1"),
            ("uatom", "1_000"),
            ("uatom", "1.5"),
            ("uatom", " 1"),
            ("ua", "1"),
            ("1atom", "1"),
            ("uatom,5x", "1"),
            ("", "1"),
        ] {
            assert!(
                CoinTotals::default().add(denom, amount, "t").is_err(),
                "{denom:?} {amount:?}"
            );
        }
        // 2^256 - 1 fits; once more overflows, and so does a 79-digit amount.
        let max = U256::MAX.to_string();
        let mut totals = CoinTotals::default();
        totals.add("uatom", &max, "t").unwrap();
        assert!(totals.add("uatom", "1", "t").is_err());
        assert!(CoinTotals::default().add("uatom", &format!("{max}0"), "t").is_err());
    }

    #[test]
    fn quoted_cuts_long_input() {
        let long = "k".repeat(1000);
        let q = quoted(&long);
        assert!(q.len() < 80, "{q}");
        assert_eq!(quoted("fee"), "\"fee\"");
    }
}

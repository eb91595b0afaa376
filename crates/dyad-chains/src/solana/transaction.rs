//! SOLANA transactions: legacy and v0 messages, bare or inside a wire transaction.
//!
//! What the accepted input is and what gets signed is documented on [`crate::solana`], which
//! re-exports [`prepare`] and [`assemble`].

use bincode::Options;
use solana_message::compiled_instruction::CompiledInstruction;
use solana_message::{Address, VersionedMessage};
use solana_system_interface::instruction::SystemInstruction;
use solana_transaction::versioned::VersionedTransaction;

use crate::transaction::{Account, Prepared, SignedTransaction, TransactionRequest, TxSummary};
use crate::{ChainError, PublicKey, SignInput, Signature, WalletType};

/// The largest transaction the network carries: one IPv6 packet less its headers (solana-packet's
/// `PACKET_DATA_SIZE`, 1280 - 40 - 8). A longer transaction could never be sent, and the bound
/// also keeps decoding cheap.
pub const PACKET_DATA_SIZE: usize = 1232;

/// The length of an Ed25519 signature slot.
const SIGNATURE_LEN: usize = 64;

/// The high bit of a message's first byte marks a versioned message (the low 7 bits are the
/// version); a legacy message starts with `num_required_signatures`, which is below 128.
const MESSAGE_VERSION_PREFIX: u8 = 0x80;

/// The System Program's id: 32 zero bytes, base58 `11111111111111111111111111111111`.
const SYSTEM_PROGRAM: Address = solana_system_interface::program::ID;

/// Decode a SOLANA message or wire transaction for `account`: [`SignInput::Message`] with the
/// message bytes, and a [`TxSummary`]:
///
/// - `kind`: `"solana-legacy"` or `"solana-v0"`;
/// - `programs`: the base58 ids of the programs the instructions invoke, each once, in order;
/// - `recipients` and `value`: System Program transfers (`Transfer`, `TransferWithSeed`) and
///   account funding (`CreateAccount`, `CreateAccountWithSeed`): the receiving accounts and the
///   sum of their lamports (decimal). `value` is `None` when there is no such instruction;
///   lamports or tokens moved by other programs are not counted. A v0 recipient loaded from an
///   address lookup table cannot be resolved offline and is written `lookup:<table>:<index>`;
/// - `chain_id` and `fee`: `None` (neither is in the transaction; the fee depends on the
///   cluster's current prices).
///
/// The request parameters `chainId`, `networkPassphrase` and the Cosmos sign mode must be
/// absent ([`ChainError::InvalidParameter`]).
pub fn prepare(account: Account<'_>, request: &TransactionRequest) -> Result<Prepared, ChainError> {
    let decoded = decode_request(account, request)?;
    Ok(Prepared {
        summary: decoded.summary(),
        input: SignInput::Message(decoded.message_bytes),
    })
}

/// Assemble the signed SOLANA wire transaction from `signature`, made over [`prepare`]'s message
/// for the same request.
///
/// The signature must be an Ed25519 signature that verifies for the message under the wallet's
/// key ([`ChainError::InvalidSignature`] otherwise), so a wrong signature never reaches a
/// broadcast. [`SignedTransaction::signature`] is the 64-byte signature;
/// [`SignedTransaction::signed_transaction`] is the wire transaction (base64 it for
/// `sendTransaction`).
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
        &SignInput::Message(decoded.message_bytes.clone()),
        signature,
        "message",
    )?;
    let slot = decoded
        .signatures
        .get_mut(decoded.slot)
        .ok_or_else(|| invalid("the wallet's signature slot is missing"))?;
    *slot = *bytes;
    Ok(SignedTransaction {
        signature: bytes.to_vec(),
        signed_transaction: Some(decoded.wire()),
    })
}

/// A message that the wallet can sign, and the signature slots of its wire transaction.
#[derive(Debug)]
struct Decoded {
    message: VersionedMessage,
    /// The message exactly as signed (and as found in the request).
    message_bytes: Vec<u8>,
    /// One slot per required signer; all zero for a bare message.
    signatures: Vec<[u8; SIGNATURE_LEN]>,
    /// The wallet's slot in `signatures`.
    slot: usize,
}

/// Which reading of the request bytes is being tried.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Form {
    Bare,
    Wire,
}

/// Why one reading of the bytes failed, and whether it got as far as a well-formed encoding
/// (then its error is the one worth reporting).
#[derive(Debug)]
struct Rejection {
    well_formed: bool,
    error: ChainError,
}

impl Rejection {
    fn malformed(error: ChainError) -> Self {
        Rejection {
            well_formed: false,
            error,
        }
    }

    fn content(error: ChainError) -> Self {
        Rejection {
            well_formed: true,
            error,
        }
    }
}

/// Checks the request's parameters and the wallet, then decodes the bytes.
fn decode_request(account: Account<'_>, request: &TransactionRequest) -> Result<Decoded, ChainError> {
    crate::transaction::check_request(account, request, WalletType::Solana)?;
    let PublicKey::Ed25519(key) = account.public_key else {
        return Err(ChainError::KeyMismatch);
    };
    decode(&request.bytes, key)
}

/// Decodes `bytes` as a bare message or a wire transaction that `key` has to sign.
fn decode(bytes: &[u8], key: &[u8; 32]) -> Result<Decoded, ChainError> {
    if bytes.is_empty() {
        return Err(invalid("the transaction is empty"));
    }
    if bytes.len() > PACKET_DATA_SIZE {
        return Err(invalid(&format!(
            "{} bytes; a Solana transaction is at most {PACKET_DATA_SIZE}",
            bytes.len()
        )));
    }
    // Both readings are tried and exactly one must succeed: a crafted input that is a valid
    // message one way and a valid transaction the other would have the wallet sign something
    // other than what the caller displayed.
    let wire = candidate(bytes, Form::Wire, key);
    let bare = candidate(bytes, Form::Bare, key);
    match (wire, bare) {
        (Ok(_), Ok(_)) => Err(invalid(
            "the bytes read both as a wire transaction and as a bare message; refusing to guess",
        )),
        (Ok(decoded), Err(_)) | (Err(_), Ok(decoded)) => Ok(decoded),
        (Err(wire), Err(bare)) => Err(match (wire.well_formed, bare.well_formed) {
            (true, _) => wire.error,
            (false, true) => bare.error,
            (false, false) => invalid(&format!(
                "neither a wire transaction ({}) nor a bare message ({})",
                short(&wire.error),
                short(&bare.error)
            )),
        }),
    }
}

/// One reading of `bytes`, checked all the way to the wallet's slot.
fn candidate(bytes: &[u8], form: Form, key: &[u8; 32]) -> Result<Decoded, Rejection> {
    let (message, message_bytes, signatures) = match form {
        Form::Bare => {
            if let Some(first) = bytes.first() {
                check_version(*first).map_err(Rejection::content)?;
            }
            let message: VersionedMessage = decode_canonical(bytes, PACKET_LIMIT).map_err(Rejection::malformed)?;
            (message, bytes.to_vec(), None)
        }
        Form::Wire => {
            let tx: VersionedTransaction = decode_canonical(bytes, PACKET_LIMIT).map_err(Rejection::malformed)?;
            let message_bytes = wire_options(PACKET_LIMIT)
                .serialize(&tx.message)
                .map_err(|_| Rejection::malformed(invalid("the message does not re-encode")))?;
            let signatures: Vec<[u8; SIGNATURE_LEN]> = tx.signatures.into_iter().map(<[u8; 64]>::from).collect();
            (tx.message, message_bytes, Some(signatures))
        }
    };
    let decoded = validate(message, message_bytes, signatures, key).map_err(Rejection::content)?;
    Ok(decoded)
}

/// Refuses message versions other than legacy and v0 by their first byte, before their bytes
/// are misread as some other structure.
fn check_version(first_byte: u8) -> Result<(), ChainError> {
    match first_byte {
        byte if byte & MESSAGE_VERSION_PREFIX == 0 => Ok(()),
        MESSAGE_VERSION_PREFIX => Ok(()),
        0xff => Err(ChainError::UnsupportedTransaction(
            "an off-chain message (0xff prefix) is not a transaction".into(),
        )),
        byte => Err(ChainError::UnsupportedTransaction(format!(
            "Solana message version {} (Dyad signs legacy and v0 messages)",
            byte & !MESSAGE_VERSION_PREFIX
        ))),
    }
}

/// Checks a structurally decoded message and finds the wallet's slot.
fn validate(
    message: VersionedMessage,
    message_bytes: Vec<u8>,
    signatures: Option<Vec<[u8; SIGNATURE_LEN]>>,
    key: &[u8; 32],
) -> Result<Decoded, ChainError> {
    if let VersionedMessage::V1(_) = message {
        return Err(ChainError::UnsupportedTransaction(
            "Solana v1 messages (Dyad signs legacy and v0 messages)".into(),
        ));
    }
    message
        .sanitize()
        .map_err(|e| invalid(&format!("the message is inconsistent: {e}")))?;

    let keys = message.static_account_keys();
    // The runtime refuses a transaction that lists an account twice; refusing it here also
    // means the wallet has exactly one slot.
    for (i, address) in keys.iter().enumerate() {
        if keys[..i].contains(address) {
            return Err(invalid(&format!("account key {i} is listed twice")));
        }
    }

    let required = usize::from(message.header().num_required_signatures);
    let signatures = match signatures {
        Some(signatures) if signatures.len() != required => {
            return Err(invalid(&format!(
                "{} signature slots for {required} required signers",
                signatures.len()
            )))
        }
        Some(signatures) => signatures,
        None => vec![[0u8; SIGNATURE_LEN]; required],
    };

    let slot = keys
        .iter()
        .take(required)
        .position(|address| address.as_array() == key)
        .ok_or_else(|| {
            ChainError::NotASigner(format!(
                "the wallet {} is not one of the {required} required signers",
                bs58::encode(key).into_string()
            ))
        })?;
    if signatures.get(slot).is_some_and(|s| s.iter().any(|b| *b != 0)) {
        return Err(invalid("the wallet's signature slot is already filled"));
    }

    let decoded = Decoded {
        message,
        message_bytes,
        signatures,
        slot,
    };
    // A bare message near the size limit may not fit once its signature slots are added.
    let wire_len = decoded.wire().len();
    if wire_len > PACKET_DATA_SIZE {
        return Err(invalid(&format!(
            "the signed transaction would be {wire_len} bytes; the limit is {PACKET_DATA_SIZE}"
        )));
    }
    Ok(decoded)
}

impl Decoded {
    /// The wire transaction: `compact-u16 count ‖ signatures ‖ message`.
    fn wire(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(3 + self.signatures.len() * SIGNATURE_LEN + self.message_bytes.len());
        // At most 255 signers (the count comes from a u8 header field), so two bytes suffice.
        let count = self.signatures.len();
        if count < 0x80 {
            out.push(count as u8);
        } else {
            out.push((count & 0x7f) as u8 | 0x80);
            out.push((count >> 7) as u8);
        }
        for signature in &self.signatures {
            out.extend_from_slice(signature);
        }
        out.extend_from_slice(&self.message_bytes);
        out
    }

    fn summary(&self) -> TxSummary {
        let kind = match self.message {
            VersionedMessage::V0(_) => "solana-v0",
            _ => "solana-legacy",
        };
        let keys = self.message.static_account_keys();
        let mut programs: Vec<String> = Vec::new();
        let mut recipients = Vec::new();
        let mut value: Option<u128> = None;
        for instruction in self.message.instructions() {
            // Sanitizing checked that program ids are static keys.
            let Some(program) = keys.get(usize::from(instruction.program_id_index)) else {
                continue;
            };
            let name = base58(program);
            if !programs.contains(&name) {
                programs.push(name);
            }
            if *program != SYSTEM_PROGRAM {
                continue;
            }
            let Some((lamports, destination)) = system_funding(instruction) else {
                continue;
            };
            // A missing account makes the instruction, and so the transaction, fail on chain:
            // nothing moves.
            let Some(destination) = self.account_name(destination) else {
                continue;
            };
            recipients.push(destination);
            value = Some(value.unwrap_or(0).saturating_add(u128::from(lamports)));
        }
        TxSummary {
            chain: Some(WalletType::Solana),
            kind: kind.into(),
            chain_id: None,
            recipients,
            value: value.map(|v| v.to_string()),
            contract: None,
            function_selector: None,
            programs,
            fee: None,
        }
    }

    /// The address at `index` in the message's account list: a static key in base58, or for a
    /// v0 key loaded from an address lookup table, `lookup:<table>:<index in table>` (the
    /// table's content is on chain, not in the message).
    fn account_name(&self, index: u8) -> Option<String> {
        let keys = self.message.static_account_keys();
        let index = usize::from(index);
        if let Some(address) = keys.get(index) {
            return Some(base58(address));
        }
        // Loaded keys follow the static ones: every table's writable indexes, then every
        // table's read-only indexes.
        let lookups = self.message.address_table_lookups()?;
        let mut rest = index - keys.len();
        let writable = lookups
            .iter()
            .flat_map(|l| l.writable_indexes.iter().map(move |i| (l, i)));
        let readonly = lookups
            .iter()
            .flat_map(|l| l.readonly_indexes.iter().map(move |i| (l, i)));
        for (lookup, table_index) in writable.chain(readonly) {
            if rest == 0 {
                return Some(format!("lookup:{}:{table_index}", base58(&lookup.account_key)));
            }
            rest -= 1;
        }
        None
    }
}

/// The lamports a System Program instruction moves to another account, and that account's
/// index in the message: `Transfer` (accounts `[from, to]`), `TransferWithSeed` (`[from, base,
/// to]`), `CreateAccount` (`[funder, new]`) and `CreateAccountWithSeed` (`[funder, new, base]`).
///
/// The data is decoded as the System Program does (bincode, trailing bytes allowed), so an
/// instruction with extra bytes after its fields is still seen for what it does on chain.
fn system_funding(instruction: &CompiledInstruction) -> Option<(u64, u8)> {
    let decoded: SystemInstruction = bincode::DefaultOptions::new()
        .with_fixint_encoding()
        .allow_trailing_bytes()
        .with_limit(PACKET_DATA_SIZE as u64)
        .deserialize(&instruction.data)
        .ok()?;
    let (lamports, position) = match decoded {
        SystemInstruction::Transfer { lamports } => (lamports, 1),
        SystemInstruction::TransferWithSeed { lamports, .. } => (lamports, 2),
        SystemInstruction::CreateAccount { lamports, .. } => (lamports, 1),
        SystemInstruction::CreateAccountWithSeed { lamports, .. } => (lamports, 1),
        _ => return None,
    };
    instruction.accounts.get(position).map(|index| (lamports, *index))
}

/// What a transaction to sign may hold: one packet.
const PACKET_LIMIT: u64 = PACKET_DATA_SIZE as u64;

/// bincode as Solana's wire format uses it (fixed-width integers; lengths are the types' own
/// compact-u16), refusing trailing bytes and reading no more than `limit` bytes.
fn wire_options(limit: u64) -> impl Options {
    bincode::DefaultOptions::new()
        .with_fixint_encoding()
        .reject_trailing_bytes()
        .with_limit(limit)
}

/// Decodes `bytes` (at most `limit` of them) as a `T` and checks that they are exactly `T`'s
/// encoding, so that what is signed and shown is what the bytes say.
fn decode_canonical<T>(bytes: &[u8], limit: u64) -> Result<T, ChainError>
where
    T: serde::de::DeserializeOwned + serde::Serialize,
{
    let value: T = wire_options(limit)
        .deserialize(bytes)
        .map_err(|e| invalid(&format!("does not decode: {}", bincode_reason(&e))))?;
    match wire_options(limit).serialize(&value) {
        Ok(again) if again == bytes => Ok(value),
        _ => Err(invalid("not the canonical encoding")),
    }
}

/// What `bytes` are, if they are something the Solana runtime could take as a transaction's
/// message or as a transaction: a legacy, v0 (or any other versioned) message, or a wire
/// transaction. `None` for anything else.
///
/// The readings are the ones [`prepare`] uses, without its checks on content (sanitizing, the
/// wallet's slot) and without its one-packet bound: a message the runtime refuses today, or
/// larger than today's packets, is still not signed as a message, so the rule does not depend
/// on the runtime's current limits. The runtime verifies a signature over the message's exact
/// encoding (it refuses trailing bytes), so bytes that are not exactly one message cannot carry
/// a signature it accepts.
pub(crate) fn transaction_reading(bytes: &[u8]) -> Option<&'static str> {
    // Nothing is read beyond the input, so its own length is the bound.
    let limit = bytes.len() as u64;
    if let Ok(message) = decode_canonical::<VersionedMessage>(bytes, limit) {
        return Some(match message {
            VersionedMessage::Legacy(_) => "a legacy message",
            VersionedMessage::V0(_) => "a v0 message",
            _ => "a versioned message",
        });
    }
    decode_canonical::<VersionedTransaction>(bytes, limit)
        .ok()
        .map(|_| "a wire transaction")
}

/// A short description of a bincode error, without the input.
fn bincode_reason(error: &bincode::Error) -> String {
    match error.as_ref() {
        bincode::ErrorKind::Io(_) => "truncated".into(),
        bincode::ErrorKind::SizeLimit => "longer than a packet".into(),
        // What `reject_trailing_bytes` reports.
        bincode::ErrorKind::Custom(text) if text.contains("bytes remaining") => "trailing bytes".into(),
        // Serde's messages name the expected value (e.g. "strict form encoding"), not the input.
        other => short_text(&other.to_string()),
    }
}

fn base58(address: &Address) -> String {
    bs58::encode(address.as_array()).into_string()
}

fn invalid(reason: &str) -> ChainError {
    ChainError::InvalidTransaction(format!("SOLANA: {reason}"))
}

/// An error's text without its "invalid transaction: SOLANA: " preamble, for combining two.
fn short(error: &ChainError) -> String {
    let text = match error {
        ChainError::InvalidTransaction(text) => text.strip_prefix("SOLANA: ").unwrap_or(text).to_owned(),
        other => other.to_string(),
    };
    short_text(&text)
}

/// Cuts a library's message to a bounded length, so nothing long ends up in logs.
fn short_text(text: &str) -> String {
    const MAX_CHARS: usize = 120;
    text.chars().take(MAX_CHARS).collect()
}

//! `SIGN_MODE_DIRECT`: the protobuf `SignDoc`, checked to be canonical and to name the wallet's
//! key, and the `TxRaw` that carries the signature.

use prost::Message as _;

use super::limits::{check_message_count, CoinBudget};
use super::proto;
use super::summary::{CoinTotals, SummaryBuilder};
use super::transaction::{invalid, Decoded, SignatureSlot};
use crate::ChainError;

/// The `type_url` of a Cosmos SDK secp256k1 public key in a `SignerInfo`.
const SECP256K1_PUBKEY_TYPE_URL: &str = "/cosmos.crypto.secp256k1.PubKey";
/// The `type_url` of a bank send message.
const MSG_SEND_TYPE_URL: &str = "/cosmos.bank.v1beta1.MsgSend";
/// `cosmos.tx.signing.v1beta1.SignMode.SIGN_MODE_DIRECT`.
const SIGN_MODE_DIRECT: i32 = 1;

pub(super) fn decode_direct(wallet_key: &[u8; 33], bytes: &[u8]) -> Result<Decoded, ChainError> {
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

/// The protobuf `TxRaw` with `signature` in the wallet's slot.
pub(super) fn tx_raw(slot: SignatureSlot, signature: &[u8]) -> Vec<u8> {
    // Every signer info needs a signature entry in the same position; the other
    // signers fill theirs in before broadcasting.
    let signatures = (0..slot.signer_count)
        .map(|i| {
            if i == slot.index {
                signature.to_vec()
            } else {
                Vec::new()
            }
        })
        .collect();
    proto::TxRaw {
        body_bytes: slot.body_bytes,
        auth_info_bytes: slot.auth_info_bytes,
        signatures,
    }
    .encode_to_vec()
}

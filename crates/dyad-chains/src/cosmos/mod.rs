//! COSMOS: bech32 account addresses, ADR-036 arbitrary-message signing, `r ‖ s` signatures,
//! and transactions in both sign modes.
//!
//! # Transactions
//!
//! A `SignDoc` in `SIGN_MODE_DIRECT` (protobuf) or a legacy amino JSON `StdSignDoc`
//! (`SIGN_MODE_LEGACY_AMINO_JSON`), chosen by
//! [`TransactionRequest::cosmos_sign_mode`](crate::TransactionRequest::cosmos_sign_mode) as a
//! [`CosmosSignMode`] (direct when absent).
//!
//! ## Direct
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
//! ## Amino
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
//! ## Summary
//!
//! `kind` is `"cosmos-direct"` or `"cosmos-amino"`; `chain_id` the sign doc's; `recipients` the
//! `to_address` of every bank send (`/cosmos.bank.v1beta1.MsgSend`, amino
//! `cosmos-sdk/MsgSend`); `value` their coins summed per denom as `"<amount><denom>"` joined by
//! `,` (in order of first appearance); `programs` the message type URLs (amino: type names),
//! each once; `fee` the fee coins in the same form. `value` and `fee` are `None` when there are
//! no coins. Other messages (delegations, contract calls, IBC transfers) move value the summary
//! does not count: policy should look at `programs`.
//!
//! ## Limits
//!
//! Decoding is linear in the sign doc's size (coins are summed through a map), and bounded:
//! at most [`MAX_SIGN_DOC_BYTES`] (1 MiB), [`MAX_MESSAGES`] (256) messages and [`MAX_COINS`]
//! (1024) coins in the bank sends' amounts and the fee together. Over a limit is
//! [`ChainError::TooComplex`], naming it.

use base64::Engine as _;
use bech32::primitives::decode::CheckedHrpstring;
use bech32::{Bech32, Hrp};
use ripemd::Ripemd160;
use serde::{Deserialize, Serialize};
use sha2::{Digest as _, Sha256};

use crate::{secp256k1, ChainError, Digest, PublicKey, SignInput, Signature};

mod amino;
mod direct;
mod limits;
mod proto;
mod summary;
mod transaction;

pub use limits::{MAX_COINS, MAX_MESSAGES, MAX_SIGN_DOC_BYTES};
pub use transaction::{assemble, prepare};

/// How a Cosmos transaction is presented.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CosmosSignMode {
    /// `SIGN_MODE_DIRECT`: the bytes are a protobuf `SignDoc`.
    #[default]
    Direct,
    /// `SIGN_MODE_LEGACY_AMINO_JSON`: the bytes are the amino JSON `StdSignDoc` (UTF-8).
    Amino,
}

/// The bech32 prefix of Cosmos Hub account addresses, used unless configured otherwise.
pub const DEFAULT_PREFIX: &str = "cosmos";

/// Length of an account address: ripemd160 output.
const ADDRESS_LEN: usize = 20;

/// The bech32 account address of a secp256k1 public key: ripemd160(sha256(compressed key))
/// under `prefix` (as Cosmos SDK `secp256k1.PubKey.Address` and CosmJS `pubkeyToAddress`).
///
/// [`ChainError::KeyMismatch`] for an Ed25519 key; [`ChainError::InvalidConfig`] if `prefix`
/// is not a lower-case bech32 human-readable part.
pub fn address(public_key: &PublicKey, prefix: &str) -> Result<String, ChainError> {
    let PublicKey::Secp256k1(compressed) = public_key else {
        return Err(ChainError::KeyMismatch);
    };
    let hrp = parse_prefix(prefix)?;
    let raw: [u8; ADDRESS_LEN] = Ripemd160::digest(Sha256::digest(compressed)).into();
    bech32::encode::<Bech32>(hrp, &raw).map_err(|e| ChainError::InvalidConfig(format!("cosmos prefix {prefix:?}: {e}")))
}

/// Decodes a bech32 account address into its (lower-case) prefix and 20 address bytes.
///
/// The rules are those of the Cosmos SDK: bech32 (not bech32m) checksum, one letter case
/// throughout, zero padding bits, and 20 bytes of data (module and contract accounts have
/// 32-byte addresses, but no key has one).
pub fn decode_address(address: &str) -> Result<(String, [u8; ADDRESS_LEN]), ChainError> {
    let checked = CheckedHrpstring::new::<Bech32>(address)
        .map_err(|e| ChainError::InvalidAddress(format!("not a bech32 address: {e}")))?;
    checked
        .validate_segwit_padding()
        .map_err(|_| ChainError::InvalidAddress("the bech32 address has non-zero padding bits".into()))?;
    let data: Vec<u8> = checked.byte_iter().collect();
    let raw = <[u8; ADDRESS_LEN]>::try_from(data).map_err(|data| {
        ChainError::InvalidAddress(format!(
            "a cosmos account address holds {ADDRESS_LEN} bytes, not {}",
            data.len()
        ))
    })?;
    Ok((checked.hrp().to_lowercase(), raw))
}

/// Whether `address` is a valid account address under `prefix` (see [`decode_address`]).
pub fn is_valid_address(address: &str, prefix: &str) -> bool {
    decode_address(address).is_ok_and(|(hrp, _)| hrp == prefix)
}

/// The ADR-036 amino-JSON sign doc for `message` signed by `signer`, byte for byte as Keplr
/// `signArbitrary` (`makeADR36AminoSignDoc` + `serializeSignDoc`) and CosmJS (`makeSignDoc` +
/// `serializeSignDoc`) produce it:
///
/// ```text
/// {"account_number":"0","chain_id":"","fee":{"amount":[],"gas":"0"},"memo":"",
///  "msgs":[{"type":"sign/MsgSignData","value":{"data":"<base64>","signer":"<signer>"}}],
///  "sequence":"0"}
/// ```
///
/// (one line, no whitespace). Keys are sorted, `data` is standard padded base64 of `message`,
/// strings are escaped as `JSON.stringify` does and then `&`, `<`, `>` become `\u0026`,
/// `\u003c`, `\u003e` (CosmJS `escapeCharacters`, Keplr `escapeHTML`, Go's HTML-safe JSON).
pub fn adr036_sign_doc(signer: &str, message: &[u8]) -> Vec<u8> {
    let data = base64::engine::general_purpose::STANDARD.encode(message);
    // The document is fixed apart from two strings, so it is written out with its keys already
    // in sorted order instead of relying on a map's ordering (serde_json's "preserve_order"
    // feature, enabled anywhere in a build, would change that).
    let doc = format!(
        concat!(
            r#"{{"account_number":"0","chain_id":"","fee":{{"amount":[],"gas":"0"}},"memo":"","#,
            r#""msgs":[{{"type":"sign/MsgSignData","value":{{"data":{},"signer":{}}}}}],"#,
            r#""sequence":"0"}}"#
        ),
        amino::json_string(&data),
        amino::json_string(signer),
    );
    doc.into_bytes()
}

/// sha256 of [`adr036_sign_doc`]: the 32-byte digest a Cosmos secp256k1 key signs.
pub fn adr036_digest(signer: &str, message: &[u8]) -> [u8; 32] {
    Sha256::digest(adr036_sign_doc(signer, message)).into()
}

/// The [`SignInput`] of a COSMOS `signMessage`: the ADR-036 digest, after checking that
/// `signer` is a canonical account address and `message` is not empty (see
/// [`crate::message_sign_input`] for why).
pub(crate) fn adr036_sign_input(signer: &str, message: &[u8]) -> Result<SignInput, ChainError> {
    decode_address(signer)?;
    // Verifiers rebuild the doc from the lower-case address they derive and compare strings.
    if signer.bytes().any(|b| b.is_ascii_uppercase()) {
        return Err(ChainError::InvalidAddress(
            "the ADR-036 signer must be the lower-case bech32 address".into(),
        ));
    }
    if message.is_empty() {
        return Err(ChainError::InvalidMessage(
            "ADR-036 verifiers reject an empty message".into(),
        ));
    }
    Ok(SignInput::Digest(Digest::from(adr036_digest(signer, message))))
}

/// The 64-byte `r ‖ s` encoding Cosmos SDK secp256k1 signatures use, low-s (the SDK rejects a
/// high `s`, so a high one is replaced by `n - s`).
///
/// [`ChainError::KeyMismatch`] for an Ed25519 signature; [`ChainError::InvalidSignature`] for
/// scalars out of range.
pub fn encode_signature(signature: &Signature) -> Result<[u8; 64], ChainError> {
    let Signature::Secp256k1 { r, s, recovery_id } = signature else {
        return Err(ChainError::KeyMismatch);
    };
    // Cosmos does not carry the recovery id; the parity only rides along.
    let canonical = secp256k1::low_s(r, s, recovery_id & 1 == 1)?;
    let mut out = [0u8; 64];
    out.copy_from_slice(&canonical.as_bytes()[..64]);
    Ok(out)
}

/// A configured prefix as a bech32 human-readable part.
fn parse_prefix(prefix: &str) -> Result<Hrp, ChainError> {
    // Chains register lower-case prefixes, and addresses are compared as lower-case strings.
    if prefix.bytes().any(|b| b.is_ascii_uppercase()) {
        return Err(ChainError::InvalidConfig(format!(
            "cosmos prefix {prefix:?} must be lower case"
        )));
    }
    Hrp::parse(prefix).map_err(|e| ChainError::InvalidConfig(format!("cosmos prefix {prefix:?}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secp(bytes: &[u8]) -> PublicKey {
        PublicKey::Secp256k1(bytes.try_into().unwrap())
    }

    fn b64(s: &str) -> Vec<u8> {
        base64::engine::general_purpose::STANDARD.decode(s).unwrap()
    }

    #[test]
    fn cosmjs_pubkey_to_address_vector() {
        // cosmos/cosmjs packages/amino/src/addresses.spec.ts, "pubkeyToAddress works for Secp256k1".
        let key = secp(&b64("AtQaCqFnshaZQp6rIkvAPyzThvCvXSDO+9AzbxVErqJP"));
        assert_eq!(
            address(&key, "cosmos").unwrap(),
            "cosmos1h806c7khnvmjlywdrkdgk2vrayy2mmvf9rxk2r"
        );
    }

    #[test]
    fn ledger_cosmos_js_terra_vector() {
        // Zondax/ledger-cosmos-js tests/basic.spec.js, "check address conversion".
        let key = secp(&hex::decode("034fef9cd7c4c63588d3b03feb5281b9d232cba34d6f3d71aee59211ffbfe1fe87").unwrap());
        assert_eq!(
            address(&key, "terra").unwrap(),
            "terra1w34k53py5v5xyluazqpq65agyajavep29d9qch"
        );
    }

    #[test]
    fn address_spelled_out_with_sha2_ripemd_bech32() {
        let compressed = b64("AtQaCqFnshaZQp6rIkvAPyzThvCvXSDO+9AzbxVErqJP");
        let sha = Sha256::digest(&compressed);
        let raw = Ripemd160::digest(sha);
        let expected = bech32::encode::<Bech32>(Hrp::parse("osmo").unwrap(), &raw).unwrap();
        assert_eq!(address(&secp(&compressed), "osmo").unwrap(), expected);
        let (hrp, decoded) = decode_address(&expected).unwrap();
        assert_eq!(hrp, "osmo");
        assert_eq!(decoded.as_slice(), raw.as_slice());
    }

    #[test]
    fn address_rejects_ed25519_keys_and_bad_prefixes() {
        assert_eq!(
            address(&PublicKey::Ed25519([1; 32]), "cosmos"),
            Err(ChainError::KeyMismatch)
        );
        let key = secp(&b64("AtQaCqFnshaZQp6rIkvAPyzThvCvXSDO+9AzbxVErqJP"));
        for bad in ["", "Cosmos", "COSMOS", "cos mos", "cosmos\u{e9}"] {
            assert!(
                matches!(address(&key, bad), Err(ChainError::InvalidConfig(_))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn decode_follows_the_sdk_rules() {
        let good = "cosmos1h806c7khnvmjlywdrkdgk2vrayy2mmvf9rxk2r";
        assert!(is_valid_address(good, "cosmos"));
        assert!(!is_valid_address(good, "osmo"));
        // One letter case throughout: all upper is the same address, mixed is invalid.
        assert!(is_valid_address(&good.to_ascii_uppercase(), "cosmos"));
        let mixed = good.replacen('h', "H", 1);
        assert!(decode_address(&mixed).is_err());
        // A changed character breaks the checksum.
        assert!(decode_address(&good.replace("9rxk2r", "9rxk2q")).is_err());
        // The same data under a bech32m checksum is not a Cosmos address.
        let (_, raw) = decode_address(good).unwrap();
        let hrp = Hrp::parse("cosmos").unwrap();
        let m = bech32::encode::<bech32::Bech32m>(hrp, &raw).unwrap();
        assert!(decode_address(&m).is_err());
        // 32-byte (module/contract) addresses are not key addresses.
        let long = bech32::encode::<Bech32>(hrp, &[7u8; 32]).unwrap();
        assert!(matches!(decode_address(&long), Err(ChainError::InvalidAddress(_))));
        for bad in [
            "",
            "cosmos",
            "cosmos1",
            "1qqqqqq",
            "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed",
        ] {
            assert!(decode_address(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn decode_rejects_non_zero_padding() {
        // 20 bytes are 160 bits = 32 five-bit groups exactly, so use the 21-byte layout's
        // sibling: encode 19 bytes (152 bits, 31 groups with 3 padding bits), then set a
        // padding bit and fix up the checksum by re-encoding the five-bit groups.
        use bech32::primitives::iter::{ByteIterExt, Fe32IterExt};
        use bech32::Fe32;
        let hrp = Hrp::parse("cosmos").unwrap();
        let mut groups: Vec<Fe32> = [9u8; 19].iter().copied().bytes_to_fes().collect();
        let last = groups.len() - 1;
        groups[last] = Fe32::try_from(groups[last].to_u8() | 1).unwrap();
        let s: String = groups.into_iter().with_checksum::<Bech32>(&hrp).chars().collect();
        let err = decode_address(&s).unwrap_err();
        assert!(
            matches!(err, ChainError::InvalidAddress(ref m) if m.contains("padding")),
            "{err}"
        );
    }

    #[test]
    fn adr036_doc_is_byte_exact() {
        // Keplr's amino.spec.ts uses this signer with data [1, 2, 3]; the doc below is the
        // CosmJS/Keplr serialization: sorted keys, no whitespace, padded base64.
        let doc = adr036_sign_doc("osmo1ymk637a7wljvt4w7q9lnrw95mg9sr37yatxd9h", &[1, 2, 3]);
        assert_eq!(
            String::from_utf8(doc).unwrap(),
            concat!(
                r#"{"account_number":"0","chain_id":"","fee":{"amount":[],"gas":"0"},"memo":"","#,
                r#""msgs":[{"type":"sign/MsgSignData","value":{"data":"AQID","#,
                r#""signer":"osmo1ymk637a7wljvt4w7q9lnrw95mg9sr37yatxd9h"}}],"sequence":"0"}"#
            )
        );
        // "random" is Keplr's other fixture: base64 "cmFuZG9t"; one byte pads with "==".
        let doc = String::from_utf8(adr036_sign_doc("s", b"random")).unwrap();
        assert!(doc.contains(r#""data":"cmFuZG9t""#), "{doc}");
        let doc = String::from_utf8(adr036_sign_doc("s", &[0xff])).unwrap();
        assert!(doc.contains(r#""data":"/w==""#), "{doc}");
    }

    #[test]
    fn adr036_doc_escapes_like_cosmjs() {
        // What JSON.stringify + escapeCharacters make of this signer (worked out by hand from
        // ECMA-262 QuoteJSONString and cosmjs signdoc.ts).
        let signer = "a\"b\\c\n\t\u{8}\u{c}\r\u{1}\u{1f}\u{7f}<>&\u{e9}\u{2028}";
        let doc = String::from_utf8(adr036_sign_doc(signer, b"x")).unwrap();
        let expected =
            "\"signer\":\"a\\\"b\\\\c\\n\\t\\b\\f\\r\\u0001\\u001f\u{7f}\\u003c\\u003e\\u0026\u{e9}\u{2028}\"";
        assert!(doc.contains(expected), "{doc}");
    }

    #[test]
    fn adr036_sign_input_checks_signer_and_message() {
        let signer = "cosmos1h806c7khnvmjlywdrkdgk2vrayy2mmvf9rxk2r";
        assert_eq!(
            adr036_sign_input(signer, b"hi").unwrap(),
            SignInput::Digest(Digest::new(Sha256::digest(adr036_sign_doc(signer, b"hi")).into()))
        );
        assert!(matches!(
            adr036_sign_input(signer, b""),
            Err(ChainError::InvalidMessage(_))
        ));
        assert!(matches!(
            adr036_sign_input(&signer.to_ascii_uppercase(), b"hi"),
            Err(ChainError::InvalidAddress(_))
        ));
        assert!(matches!(
            adr036_sign_input("not-an-address", b"hi"),
            Err(ChainError::InvalidAddress(_))
        ));
    }

    #[test]
    fn encode_signature_is_r_then_low_s() {
        let sig = Signature::Secp256k1 {
            r: [0x11; 32],
            s: [0x22; 32],
            recovery_id: 1,
        };
        let out = encode_signature(&sig).unwrap();
        assert_eq!(&out[..32], &[0x11; 32]);
        assert_eq!(&out[32..], &[0x22; 32]);
        assert_eq!(
            encode_signature(&Signature::Ed25519([0; 64])),
            Err(ChainError::KeyMismatch)
        );
        // s = n - 1 is high; it is written as 1.
        let n_minus_1 = hex::decode("fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364140").unwrap();
        let high = Signature::Secp256k1 {
            r: [0x11; 32],
            s: n_minus_1.try_into().unwrap(),
            recovery_id: 0,
        };
        let out = encode_signature(&high).unwrap();
        let mut one = [0u8; 32];
        one[31] = 1;
        assert_eq!(&out[32..], &one);
    }
}

//! EIP-712 typed data, as `eth_signTypedData_v4` takes it.
//!
//! The JSON object has `types`, `primaryType`, `domain` and `message`. What is signed is
//! `keccak256(0x19 ‖ 0x01 ‖ domainSeparator ‖ hashStruct(message))` (for `primaryType`
//! `"EIP712Domain"` the last part is left out, as MetaMask's eth-sig-util does).
//!
//! Wallets do not all build the domain separator the same way: MetaMask hashes the domain with
//! the fields `types.EIP712Domain` declares, in that order; alloy (like viem when the type is not
//! given) uses the standard fields present in `domain`, in the standard order. When the two
//! disagree (a declared field missing, an undeclared one present, another order, a
//! non-standard field) the request is refused, so the digest Dyad signs is the one every
//! verifier computes.

use alloy_dyn_abi::{Eip712Domain, Resolver, TypedData};
use serde_json::Value;

use crate::transaction::{Prepared, TxSummary};
use crate::{ChainError, SignInput, WalletType};

/// The type name of the EIP-712 domain.
const DOMAIN_TYPE: &str = "EIP712Domain";

/// Longest library error text passed on; longer ones are cut so that parts of the input they
/// quote stay short.
const MAX_REASON_CHARS: usize = 160;

/// Hash typed data JSON (as `eth_signTypedData_v4` takes it) into the digest to sign.
///
/// Returns [`SignInput::Digest`] of the EIP-712 signing hash and a [`TxSummary`] with `kind`
/// `"eip712"`, `chain_id` the domain's `chainId` (decimal) and `contract` its
/// `verifyingContract` (EIP-55) when present, and `programs` holding `primaryType` (what kind of
/// message this is, e.g. `"Permit"`, for policy and audit).
///
/// [`ChainError::InvalidTypedData`] for input that is not such a JSON object, whose types do not
/// resolve, whose message does not fit its type, or whose domain does not match a declared
/// `types.EIP712Domain` (see the module documentation).
pub fn prepare(json: &str) -> Result<Prepared, ChainError> {
    let value: Value = serde_json::from_str(json).map_err(|e| invalid(format!("not JSON: {}", short(&e))))?;
    let Value::Object(mut object) = value else {
        return Err(invalid(
            "expected a JSON object with types, primaryType, domain and message",
        ));
    };
    // Taken apart here rather than by alloy's own deserializer: it fills in a missing domain or
    // message with defaults (signing something the app did not describe) and reports every
    // problem as "did not match any variant".
    let types = object.remove("types").ok_or_else(|| invalid("types is missing"))?;
    let domain_json = object.remove("domain").ok_or_else(|| invalid("domain is missing"))?;
    let primary_type = match object.remove("primaryType") {
        Some(Value::String(name)) => name,
        Some(_) => return Err(invalid("primaryType is not a string")),
        None => return Err(invalid("primaryType is missing")),
    };
    // Only the domain itself may be signed without a message (as eth-sig-util allows).
    let message = match object.remove("message") {
        Some(message) => message,
        None if primary_type == DOMAIN_TYPE => Value::Null,
        None => return Err(invalid("message is missing")),
    };
    let domain_declared = types.get(DOMAIN_TYPE).is_some();
    let resolver: Resolver = serde_json::from_value(types).map_err(|e| invalid(format!("types: {}", short(&e))))?;
    let domain: Eip712Domain =
        serde_json::from_value(domain_json.clone()).map_err(|e| invalid(format!("domain: {}", short(&e))))?;

    let typed = TypedData {
        domain,
        resolver,
        primary_type,
        message,
    };
    let digest = typed.eip712_signing_hash().map_err(|e| abi_error("message", &e))?;

    if domain_declared {
        let as_declared = TypedData {
            domain: Eip712Domain::default(),
            resolver: typed.resolver.clone(),
            primary_type: DOMAIN_TYPE.into(),
            message: domain_json,
        }
        .hash_struct()
        .map_err(|e| abi_error("domain", &e))?;
        if as_declared != typed.domain.separator() {
            return Err(invalid(
                "domain does not match types.EIP712Domain (fields or their order differ); \
                 wallets would disagree on the digest",
            ));
        }
    }

    let summary = TxSummary {
        chain: Some(WalletType::Evm),
        kind: "eip712".into(),
        chain_id: typed.domain.chain_id.map(|id| id.to_string()),
        contract: typed.domain.verifying_contract.map(|address| address.to_checksum(None)),
        programs: vec![typed.primary_type],
        ..TxSummary::default()
    };
    Ok(Prepared {
        input: SignInput::Digest(digest.0),
        summary,
    })
}

/// An encoding error from alloy, without the offending value (its text quotes the value whole,
/// which can be all of the message).
fn abi_error(part: &str, error: &alloy_dyn_abi::Error) -> ChainError {
    match error {
        alloy_dyn_abi::Error::TypeMismatch { expected, .. } => {
            invalid(format!("{part}: a value does not fit its type {}", short(expected)))
        }
        other => invalid(format!("{part}: {}", short(other))),
    }
}

fn invalid(reason: impl Into<String>) -> ChainError {
    ChainError::InvalidTypedData(reason.into())
}

/// A library error's text, cut to [`MAX_REASON_CHARS`] (serde and alloy quote bits of the input,
/// such as a string that does not parse).
fn short(error: &dyn std::fmt::Display) -> String {
    let text = error.to_string();
    if text.chars().count() <= MAX_REASON_CHARS {
        return text;
    }
    let mut cut: String = text.chars().take(MAX_REASON_CHARS).collect();
    cut.push('…');
    cut
}

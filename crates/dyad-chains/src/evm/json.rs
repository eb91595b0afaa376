//! An EVM transaction given as a JSON object (Para's REST shape: `to, chainId, type, value,
//! data, nonce, gasLimit, maxFeePerGas, maxPriorityFeePerGas, gasPrice`, quantities as `0x` hex
//! strings), turned into the unsigned bytes [`super::prepare`] accepts, so it is decoded and
//! summarised exactly like any other request. Nothing is filled in that the object does not
//! say, except what has one obvious value: `value` 0, `data` empty, and the type (EIP-1559 when
//! `maxFeePerGas` is given, legacy when `gasPrice` is). `to` must be given (`null` for a contract
//! creation), so a forgotten recipient is not a deployment.

use alloy_consensus::{SignableTransaction, TxEip1559, TxEip2930, TxLegacy};
use alloy_primitives::{Address, Bytes, TxKind, U256};
use serde_json::{Map, Value};

use crate::ChainError;

/// The fields the object may have.
const FIELDS: [&str; 11] = [
    "to",
    "chainId",
    "type",
    "value",
    "data",
    "nonce",
    "gasLimit",
    "gas",
    "maxFeePerGas",
    "maxPriorityFeePerGas",
    "gasPrice",
];

/// The unsigned transaction `object` describes, and its chain id: `0x02 ‖ rlp(…)` for EIP-1559,
/// `0x01 ‖ rlp(…)` for EIP-2930 (`type` 1, empty access list), or the EIP-155 signing form of a
/// legacy one. Unknown fields, a missing `nonce`, `gasLimit` or `chainId`, fees that do not fit
/// the type, and quantities that are not numbers are [`ChainError::InvalidTransaction`].
pub fn unsigned_from_json(object: &Value) -> Result<(Vec<u8>, u64), ChainError> {
    let bad = |why: String| ChainError::InvalidTransaction(why);
    let o = object
        .as_object()
        .ok_or_else(|| bad("an EVM transaction object must be a JSON object".into()))?;
    if let Some(unknown) = o.keys().find(|k| !FIELDS.contains(&k.as_str())) {
        return Err(bad(format!(
            "unknown field {unknown:?} in the transaction (access lists and blobs are not taken as JSON)"
        )));
    }
    let chain_id = u64_of(o, "chainId")?.ok_or_else(|| bad("chainId is required".into()))?;
    let nonce = u64_of(o, "nonce")?.ok_or_else(|| bad("nonce is required".into()))?;
    let gas_limit = match (u64_of(o, "gasLimit")?, u64_of(o, "gas")?) {
        (Some(g), None) | (None, Some(g)) => g,
        (Some(_), Some(_)) => return Err(bad("give gasLimit or gas, not both".into())),
        (None, None) => return Err(bad("gasLimit is required".into())),
    };
    let to = match o.get("to") {
        None => return Err(bad("to is required (null for a contract creation)".into())),
        Some(Value::Null) => TxKind::Create,
        Some(Value::String(s)) => TxKind::Call(
            s.parse::<Address>()
                .map_err(|_| bad(format!("to {s:?} is not an EVM address")))?,
        ),
        Some(other) => return Err(bad(format!("to must be an address string, not {other}"))),
    };
    let value = quantity(o, "value")?.unwrap_or_default();
    let input: Bytes = match o.get("data") {
        None | Some(Value::Null) => Bytes::new(),
        Some(Value::String(s)) => hex_data(s).ok_or_else(|| bad("data must be 0x-prefixed hex".into()))?,
        Some(_) => return Err(bad("data must be a 0x-hex string".into())),
    };
    let gas_price = u128_of(o, "gasPrice")?;
    let max_fee = u128_of(o, "maxFeePerGas")?;
    let priority = u128_of(o, "maxPriorityFeePerGas")?;
    let tx_type = match u64_of(o, "type")? {
        Some(t) => t,
        None if max_fee.is_some() => 2,
        None => 0,
    };
    let mut out = Vec::new();
    match (tx_type, gas_price, max_fee, priority) {
        (2, None, Some(max_fee_per_gas), priority) => TxEip1559 {
            chain_id,
            nonce,
            gas_limit,
            max_fee_per_gas,
            max_priority_fee_per_gas: priority.unwrap_or(0),
            to,
            value,
            access_list: Default::default(),
            input,
        }
        .encode_for_signing(&mut out),
        (1, Some(gas_price), None, None) => TxEip2930 {
            chain_id,
            nonce,
            gas_price,
            gas_limit,
            to,
            value,
            access_list: Default::default(),
            input,
        }
        .encode_for_signing(&mut out),
        (0, Some(gas_price), None, None) => TxLegacy {
            chain_id: Some(chain_id),
            nonce,
            gas_price,
            gas_limit,
            to,
            value,
            input,
        }
        .encode_for_signing(&mut out),
        (3 | 4, ..) => {
            return Err(ChainError::UnsupportedTransaction(format!(
                "type {tx_type} transactions are not signed (see dyad_chains::evm)"
            )))
        }
        (0 | 1, ..) => {
            return Err(bad(format!(
                "a type {tx_type} transaction takes gasPrice, and no maxFeePerGas or maxPriorityFeePerGas"
            )))
        }
        (2, Some(_), ..) => {
            return Err(bad(
                "an EIP-1559 transaction takes maxFeePerGas (and maxPriorityFeePerGas), not gasPrice".into(),
            ))
        }
        (2, ..) => return Err(bad("an EIP-1559 transaction needs maxFeePerGas".into())),
        _ => return Err(bad(format!("type {tx_type} is not an EVM transaction type"))),
    }
    Ok((out, chain_id))
}

fn hex_data(s: &str) -> Option<Bytes> {
    let digits = s.strip_prefix("0x")?;
    hex::decode(digits).ok().map(Bytes::from)
}

/// A quantity: a `0x` hex string, a decimal string, or a non-negative JSON integer.
fn quantity(o: &Map<String, Value>, field: &str) -> Result<Option<U256>, ChainError> {
    let bad = || ChainError::InvalidTransaction(format!("{field} is not a quantity (0x-hex or decimal)"));
    match o.get(field) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => {
            let parsed = match s.strip_prefix("0x") {
                Some(hex) if !hex.is_empty() => U256::from_str_radix(hex, 16),
                Some(_) => return Err(bad()),
                None if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) => U256::from_str_radix(s, 10),
                None => return Err(bad()),
            };
            parsed.map(Some).map_err(|_| bad())
        }
        Some(Value::Number(n)) => n.as_u64().map(|v| Some(U256::from(v))).ok_or_else(bad),
        Some(_) => Err(bad()),
    }
}

fn u64_of(o: &Map<String, Value>, field: &str) -> Result<Option<u64>, ChainError> {
    quantity(o, field)?
        .map(|v| u64::try_from(v).map_err(|_| ChainError::InvalidTransaction(format!("{field} is too large"))))
        .transpose()
}

fn u128_of(o: &Map<String, Value>, field: &str) -> Result<Option<u128>, ChainError> {
    quantity(o, field)?
        .map(|v| u128::try_from(v).map_err(|_| ChainError::InvalidTransaction(format!("{field} is too large"))))
        .transpose()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_para_eip1559_object_becomes_the_bytes_viem_would_serialize() {
        let (bytes, chain) = unsigned_from_json(&json!({
            "to": "0x70997970C51812dc3A010C7d01b50e0d17dc79C8", "chainId": "0x1", "type": "0x2",
            "value": "0xde0b6b3a7640000", "nonce": "0x0", "gasLimit": "0x5208",
            "maxFeePerGas": "0x3b9aca00", "maxPriorityFeePerGas": "0x3b9aca00"
        }))
        .unwrap();
        assert_eq!(chain, 1);
        // viem: serializeTransaction({chainId: 1, type: 'eip1559', to, value: parseEther('1'),
        // nonce: 0, gas: 21000n, maxFeePerGas: 1 gwei, maxPriorityFeePerGas: 1 gwei})
        assert_eq!(
            hex::encode(&bytes),
            "02ef0180843b9aca00843b9aca008252089470997970c51812dc3a010c7d01b50e0d17dc79c8880de0b6b3a764000080c0"
        );
    }

    #[test]
    fn a_legacy_object_becomes_its_eip155_signing_form() {
        let (bytes, chain) = unsigned_from_json(&json!({
            "to": "0x3535353535353535353535353535353535353535", "chainId": 1, "nonce": 9,
            "gasLimit": 21000, "gasPrice": "20000000000", "value": "1000000000000000000"
        }))
        .unwrap();
        assert_eq!(chain, 1);
        // EIP-155's example transaction in its signing form; viem: serializeTransaction({chainId: 1,
        // type: 'legacy', to, value: parseEther('1'), nonce: 9, gas: 21000n, gasPrice: 20 gwei}).
        assert_eq!(
            hex::encode(&bytes),
            "ec098504a817c800825208943535353535353535353535353535353535353535880de0b6b3a764000080018080"
        );
    }

    #[test]
    fn incomplete_or_contradictory_objects_are_refused() {
        let base = json!({"to": null, "chainId": "0x1", "nonce": "0x0", "gasLimit": "0x5208", "maxFeePerGas": "0x1"});
        assert!(unsigned_from_json(&base).is_ok());
        let with = |k: &str, v: Value| {
            let mut o = base.clone();
            o[k] = v;
            unsigned_from_json(&o)
        };
        let without = |k: &str| {
            let mut o = base.clone();
            o.as_object_mut().unwrap().remove(k);
            unsigned_from_json(&o)
        };
        for e in [
            without("chainId"),
            without("nonce"),
            without("gasLimit"),
            without("to"),
            without("maxFeePerGas"),
            with("gasPrice", json!("0x1")),
            with("type", json!(0)),
            with("accessList", json!([])),
            with("value", json!("-1")),
            with("value", json!("0x")),
            with("nonce", json!("0x10000000000000000")),
            with("to", json!("0x1234")),
            with("data", json!("beef")),
            unsigned_from_json(&json!([1])),
        ] {
            assert!(matches!(e, Err(ChainError::InvalidTransaction(_))), "{e:?}");
        }
        assert!(matches!(
            with("type", json!(4)),
            Err(ChainError::UnsupportedTransaction(_))
        ));
    }
}

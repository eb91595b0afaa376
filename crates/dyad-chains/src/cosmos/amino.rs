//! `SIGN_MODE_LEGACY_AMINO_JSON`: the amino JSON `StdSignDoc`, accepted only in the canonical
//! form CosmJS writes, because the node rebuilds that form and verifies the signature over it.

use serde_json::Value;

use super::limits::{check_message_count, CoinBudget};
use super::summary::{CoinTotals, SummaryBuilder};
use super::transaction::{invalid, Decoded};
use crate::ChainError;

/// The amino type name of a bank send message.
const AMINO_MSG_SEND_TYPE: &str = "cosmos-sdk/MsgSend";
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

type JsonObject = serde_json::Map<String, Value>;

pub(super) fn decode_amino(wallet_address: &str, bytes: &[u8]) -> Result<Decoded, ChainError> {
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

/// `s` as a JSON string literal exactly as `JSON.stringify` writes it, followed by CosmJS's
/// `escapeCharacters` (`&`, `<`, `>` as `\u0026`, `\u003c`, `\u003e`), which runs over a whole
/// document, but those characters can only occur inside strings.
///
/// serde_json and `JSON.stringify` escape the same set: `"`, `\`, `\b \f \n \r \t` by name,
/// other control characters below U+0020 as `\u00xx` with lower-case hex, and nothing else
/// (a Rust string holds no lone surrogates, the one other case `JSON.stringify` escapes).
pub(super) fn json_string(s: &str) -> String {
    // Display on a Value is infallible, unlike serde_json::to_string.
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
    fn quoted_cuts_long_input() {
        let long = "k".repeat(1000);
        let q = quoted(&long);
        assert!(q.len() < 80, "{q}");
        assert_eq!(quoted("fee"), "\"fee\"");
    }
}

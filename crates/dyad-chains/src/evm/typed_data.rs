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
//!
//! # Limits
//!
//! The hashing library expands the primary type into a tree of all its fields (a type used
//! twice is expanded twice) and, for every struct value, rebuilds the `encodeType` string of
//! all the types it refers to. Unbounded, a few kilobytes of types expand exponentially and a
//! long message costs the product of its values and its types. So before anything reaches the
//! library, the JSON is scanned and refused with [`ChainError::TooComplex`], naming the limit,
//! when it has
//!
//! - more than [`MAX_TYPES`] (64) type definitions (`EIP712Domain` included);
//! - a type (the primary type or `EIP712Domain`) with more than [`MAX_TYPE_FIELDS`] (1024)
//!   fields once its struct fields are expanded, or nested deeper than [`MAX_DEPTH`] (32)
//!   levels of structs and arrays (a fixed array size over [`MAX_ARRAY_LEN`] counts too);
//! - a message nested deeper than [`MAX_DEPTH`], with an array of more than [`MAX_ARRAY_LEN`]
//!   (1024) elements, more than [`MAX_VALUES`] (65 536) values (every object, array, string,
//!   number, boolean and null counts) or more than [`MAX_STRUCTS`] (4096) objects (struct
//!   values);
//! - more than [`MAX_STRUCT_WORK`] (65 536) struct values times type definitions: each struct
//!   value costs up to one `encodeType` of every type, so 4096 struct values come with at most
//!   16 types, and 64 types with at most 1024 struct values.
//!
//! Real payloads are far below these: a Permit2 batch or a Seaport order has a handful of
//! types, depth 3 to 5 and some hundred values; a Seaport bulk order of 2^h orders nests h
//! arrays deep. Recursive types (which EIP-712 allows but no finite value of this library's can
//! hold) and tuple types (which EIP-712 does not have) are [`ChainError::InvalidTypedData`].

use std::collections::HashMap;

use alloy_dyn_abi::{Eip712Domain, Resolver, TypedData};
use serde_json::Value;

use crate::transaction::{Prepared, TxSummary};
use crate::{ChainError, Digest, SignInput, WalletType};

/// The type name of the EIP-712 domain.
const DOMAIN_TYPE: &str = "EIP712Domain";

/// Longest library error text passed on; longer ones are cut so that parts of the input they
/// quote stay short.
const MAX_REASON_CHARS: usize = 160;

/// The most type definitions in `types`, `EIP712Domain` included.
pub const MAX_TYPES: usize = 64;

/// The deepest nesting of structs and arrays: in a type (a struct is one level, each array
/// dimension one more) and in the message (each object or array one level).
pub const MAX_DEPTH: usize = 32;

/// The most elements in one array of the message, and the largest fixed array size a type
/// may declare.
pub const MAX_ARRAY_LEN: usize = 1024;

/// The most fields in the primary type (or `EIP712Domain`) once every struct-typed field is
/// expanded into its own fields, as the hashing library resolves it.
pub const MAX_TYPE_FIELDS: usize = 1024;

/// The most JSON values in the message, counting every object, array and scalar.
pub const MAX_VALUES: usize = 65_536;

/// The most objects (struct values) in the message.
pub const MAX_STRUCTS: usize = 4096;

/// The most struct values (objects in the message) times type definitions: the library hashes
/// each struct value with the `encodeType` of every type it refers to, rebuilt each time.
pub const MAX_STRUCT_WORK: usize = 65_536;

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
    let definitions = check_types(&types, &primary_type)?;
    let structs = check_message(&message)?;
    if structs.saturating_mul(definitions) > MAX_STRUCT_WORK {
        return Err(too_complex(format!(
            "{structs} struct values with {definitions} type definitions, more than \
             {MAX_STRUCT_WORK} together (MAX_STRUCT_WORK)"
        )));
    }
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
        input: SignInput::Digest(Digest::from(digest.0)),
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

fn too_complex(reason: impl Into<String>) -> ChainError {
    ChainError::TooComplex(format!("EIP-712: {}", reason.into()))
}

/// Checks `types` against [`MAX_TYPES`], and the primary type and `EIP712Domain` against
/// [`MAX_TYPE_FIELDS`] and [`MAX_DEPTH`]; the number of definitions. Shapes this cannot read are
/// left for the library to refuse; it never reads a definition twice, so it is linear in the
/// size of `types`.
fn check_types(types: &Value, primary_type: &str) -> Result<usize, ChainError> {
    let Value::Object(definitions) = types else {
        return Ok(0);
    };
    if definitions.len() > MAX_TYPES {
        return Err(too_complex(format!(
            "{} type definitions, more than {MAX_TYPES} (MAX_TYPES)",
            definitions.len()
        )));
    }
    let mut fields: HashMap<&str, Vec<&str>> = HashMap::with_capacity(definitions.len());
    for (name, props) in definitions {
        let Value::Array(props) = props else { continue };
        let declared = props
            .iter()
            .filter_map(|prop| prop.get("type").and_then(Value::as_str))
            .collect();
        fields.insert(name.as_str(), declared);
    }
    let mut scan = TypeScan {
        fields: &fields,
        measured: HashMap::new(),
        open: Vec::new(),
    };
    for root in [primary_type, DOMAIN_TYPE] {
        if fields.contains_key(root) {
            let size = scan.measure(root)?;
            if size.fields > MAX_TYPE_FIELDS {
                return Err(too_complex(format!(
                    "{root} has more than {MAX_TYPE_FIELDS} fields with its struct fields expanded \
                     (MAX_TYPE_FIELDS)"
                )));
            }
        }
    }
    Ok(definitions.len())
}

/// A type's size as the library resolves it.
#[derive(Clone, Copy)]
struct TypeSize {
    /// Its fields, struct fields counted with all of theirs (saturating past the limit).
    fields: usize,
    /// Struct and array levels, the type itself being one.
    depth: usize,
}

/// Measures struct types once each (their sizes are remembered), depth first.
struct TypeScan<'a> {
    fields: &'a HashMap<&'a str, Vec<&'a str>>,
    measured: HashMap<&'a str, TypeSize>,
    /// The types being measured, outermost first: meeting one again is a recursion.
    open: Vec<&'a str>,
}

impl<'a> TypeScan<'a> {
    fn measure(&mut self, name: &'a str) -> Result<TypeSize, ChainError> {
        if let Some(size) = self.measured.get(name) {
            return Ok(*size);
        }
        if self.open.contains(&name) {
            return Err(invalid(format!(
                "types: {} refers to itself; recursive types cannot be signed",
                short(&name)
            )));
        }
        let Some(declared) = self.fields.get(name) else {
            return Ok(TypeSize { fields: 0, depth: 0 });
        };
        // At most MAX_TYPES deep, since every open type is a different definition.
        self.open.push(name);
        let mut size = TypeSize { fields: 0, depth: 1 };
        for field_type in declared {
            let (root, dimensions) = split_type(field_type)?;
            let inner = if self.fields.contains_key(root) {
                self.measure(root)?
            } else {
                TypeSize { fields: 0, depth: 0 }
            };
            size.fields = size.fields.saturating_add(1).saturating_add(inner.fields);
            size.depth = size.depth.max(1 + dimensions + inner.depth);
            if size.depth > MAX_DEPTH {
                return Err(too_complex(format!(
                    "{} nests structs and arrays more than {MAX_DEPTH} levels deep (MAX_DEPTH)",
                    short(&name)
                )));
            }
            if size.fields > MAX_TYPE_FIELDS {
                // Anything containing this type is over the limit too; no need to go on.
                break;
            }
        }
        self.open.pop();
        self.measured.insert(name, size);
        Ok(size)
    }
}

/// A field type's root type name and its number of array dimensions, e.g. `("Person", 2)` for
/// `Person[3][]`. Fixed sizes over [`MAX_ARRAY_LEN`] are refused; tuple types, which EIP-712
/// does not have (and which the library would expand like structs), are refused too.
fn split_type(field_type: &str) -> Result<(&str, usize), ChainError> {
    if field_type.contains(['(', ')', ',']) {
        return Err(invalid(format!(
            "types: {} is a tuple type, which EIP-712 does not have",
            short(&field_type)
        )));
    }
    let (root, mut rest) = match field_type.find('[') {
        Some(at) => field_type.split_at(at),
        None => (field_type, ""),
    };
    let mut dimensions = 0usize;
    while let Some(inner) = rest.strip_prefix('[') {
        let Some(close) = inner.find(']') else {
            return Err(invalid(format!("types: {} has an unclosed [", short(&field_type))));
        };
        let size = &inner[..close];
        if !size.is_empty() {
            let too_long = || {
                too_complex(format!(
                    "a fixed array in {} is longer than {MAX_ARRAY_LEN} (MAX_ARRAY_LEN)",
                    short(&field_type)
                ))
            };
            if !size.bytes().all(|b| b.is_ascii_digit()) {
                return Err(invalid(format!("types: {} has a bad array size", short(&field_type))));
            }
            match size.parse::<usize>() {
                Ok(n) if n <= MAX_ARRAY_LEN => {}
                _ => return Err(too_long()),
            }
        }
        dimensions += 1;
        rest = &inner[close + 1..];
    }
    if !rest.is_empty() {
        return Err(invalid(format!("types: {} does not parse", short(&field_type))));
    }
    Ok((root, dimensions))
}

/// Checks the message against [`MAX_DEPTH`], [`MAX_ARRAY_LEN`], [`MAX_VALUES`] and
/// [`MAX_STRUCTS`], without recursion; the number of objects (struct values).
fn check_message(message: &Value) -> Result<usize, ChainError> {
    let mut values = 0usize;
    let mut structs = 0usize;
    // Each value with the number of objects and arrays it is inside.
    let mut pending: Vec<(&Value, usize)> = vec![(message, 0)];
    while let Some((value, outer)) = pending.pop() {
        values += 1;
        if values > MAX_VALUES {
            return Err(too_complex(format!(
                "the message has more than {MAX_VALUES} values (MAX_VALUES)"
            )));
        }
        let depth = outer + 1;
        let deep = || {
            too_complex(format!(
                "the message nests objects and arrays more than {MAX_DEPTH} levels deep (MAX_DEPTH)"
            ))
        };
        match value {
            Value::Array(items) => {
                if depth > MAX_DEPTH {
                    return Err(deep());
                }
                if items.len() > MAX_ARRAY_LEN {
                    return Err(too_complex(format!(
                        "an array of {} elements, more than {MAX_ARRAY_LEN} (MAX_ARRAY_LEN)",
                        items.len()
                    )));
                }
                pending.extend(items.iter().map(|item| (item, depth)));
            }
            Value::Object(entries) => {
                if depth > MAX_DEPTH {
                    return Err(deep());
                }
                structs += 1;
                if structs > MAX_STRUCTS {
                    return Err(too_complex(format!(
                        "the message has more than {MAX_STRUCTS} objects (MAX_STRUCTS)"
                    )));
                }
                pending.extend(entries.values().map(|entry| (entry, depth)));
            }
            _ => {}
        }
    }
    Ok(structs)
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

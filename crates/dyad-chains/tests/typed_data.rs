//! EIP-712 typed data through the public API, against the "Mail" example of the EIP-712 spec
//! (ethereum/EIPs, EIPS/eip-712.md and assets/eip-712/Example.js): its digest, intermediate
//! hashes, and the signature made with the spec's key `cow` = keccak256("cow").

use dyad_chains::evm::typed_data;
use dyad_chains::evm::typed_data::{
    MAX_ARRAY_LEN, MAX_DEPTH, MAX_STRUCTS, MAX_STRUCT_WORK, MAX_TYPES, MAX_TYPE_FIELDS, MAX_VALUES,
};
use dyad_chains::transaction::{self, Account};
use dyad_chains::{address, encode_signature, ChainConfig, ChainError, PublicKey, SignInput, Signature, WalletType};
// The Mail example as `eth_signTypedData_v4` takes it, and Example.js's `signHash()` of it.
use dyad_test_support::fixtures::{mail_typed_data as mail, MAIL_DIGEST_HEX as MAIL_DIGEST};
use k256::ecdsa::SigningKey;
use serde_json::{json, Value};
use sha3::{Digest, Keccak256};

/// EIP-712 Example.js: the domain separator.
const MAIL_DOMAIN_SEPARATOR: &str = "f2cee375fa42b42143804025fc449deafd50cc031ca257e0b194a650a912090f";
/// EIP-712 Example.js: `hashStruct('Mail', message)`.
const MAIL_HASH_STRUCT: &str = "c52c0ee5d84264471806290a3f2c4cecfc5490626bf912d01f240d7a274b371e";
/// EIP-712 Example.js: the signature by `cow`.
const MAIL_R: &str = "4355c47d63924e8a72e509b65029052eb6c299d53a04e167c5775fd466751c9d";
const MAIL_S: &str = "07299936d304c153f6443dfa05f40ff007d72911b6f72307f996231605b91562";
const MAIL_V: u8 = 28;

fn digest_of(json: &Value) -> [u8; 32] {
    match typed_data::prepare(&json.to_string()).unwrap().input {
        SignInput::Digest(d) => *d.as_bytes(),
        other => panic!("typed data signs a digest, got {other:?}"),
    }
}

fn typed_err(json: &str) -> String {
    match typed_data::prepare(json) {
        Err(ChainError::InvalidTypedData(reason)) => reason,
        other => panic!("expected InvalidTypedData, got {other:?}"),
    }
}

fn keccak(data: &[u8]) -> [u8; 32] {
    Keccak256::digest(data).into()
}

/// An address as a 32-byte ABI word.
fn address_word(address: &str) -> Vec<u8> {
    let mut word = vec![0u8; 12];
    word.extend(hex::decode(&address[2..]).unwrap());
    word
}

#[test]
fn mail_example_digest_matches_the_spec() {
    assert_eq!(hex::encode(digest_of(&mail())), MAIL_DIGEST);
    // The spec's intermediate values make up its digest (independent keccak).
    let mut preimage = vec![0x19, 0x01];
    preimage.extend(hex::decode(MAIL_DOMAIN_SEPARATOR).unwrap());
    preimage.extend(hex::decode(MAIL_HASH_STRUCT).unwrap());
    assert_eq!(hex::encode(keccak(&preimage)), MAIL_DIGEST);
}

#[test]
fn mail_example_spelled_out_by_hand() {
    // EIP-712 by the letter, without the library under test.
    let domain_type = keccak(b"EIP712Domain(string name,string version,uint256 chainId,address verifyingContract)");
    let mut chain_id = [0u8; 32];
    chain_id[31] = 1;
    let domain = keccak(
        &[
            &domain_type[..],
            &keccak(b"Ether Mail"),
            &keccak(b"1"),
            &chain_id,
            &address_word("0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC"),
        ]
        .concat(),
    );
    assert_eq!(hex::encode(domain), MAIL_DOMAIN_SEPARATOR);

    let person_type = keccak(b"Person(string name,address wallet)");
    let person = |name: &str, wallet: &str| {
        keccak(&[&person_type[..], &keccak(name.as_bytes()), &address_word(wallet)].concat())
    };
    let mail_type = keccak(b"Mail(Person from,Person to,string contents)Person(string name,address wallet)");
    let mail_struct = keccak(
        &[
            &mail_type[..],
            &person("Cow", "0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826"),
            &person("Bob", "0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB"),
            &keccak(b"Hello, Bob!"),
        ]
        .concat(),
    );
    assert_eq!(hex::encode(mail_struct), MAIL_HASH_STRUCT);
}

#[test]
fn mail_example_signed_by_cow_gives_the_spec_signature() {
    let secret = keccak(b"cow");
    let signing = SigningKey::from_slice(&secret).unwrap();
    let public = PublicKey::Secp256k1(
        signing
            .verifying_key()
            .to_encoded_point(true)
            .as_bytes()
            .try_into()
            .unwrap(),
    );
    let addr = address(WalletType::Evm, &public, &ChainConfig::default()).unwrap();
    // The spec's message is from Cow, whose wallet is cow's address.
    assert_eq!(addr, "0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826");

    let signer = Account {
        wallet_type: WalletType::Evm,
        public_key: &public,
        address: &addr,
    };
    let prepared = transaction::prepare_typed_data(signer, &mail().to_string()).unwrap();
    let SignInput::Digest(digest) = prepared.input else {
        panic!("typed data signs a digest");
    };
    let (sig, id) = signing.sign_prehash_recoverable(digest.as_bytes()).unwrap();
    let signature = Signature::Secp256k1 {
        r: sig.r().to_bytes().into(),
        s: sig.s().to_bytes().into(),
        recovery_id: id.to_byte(),
    };
    public.verify(&prepared.input, &signature).unwrap();
    let encoded = encode_signature(WalletType::Evm, &signature).unwrap();
    assert_eq!(hex::encode(&encoded[..32]), MAIL_R);
    assert_eq!(hex::encode(&encoded[32..64]), MAIL_S);
    assert_eq!(encoded[64], MAIL_V);
}

#[test]
fn mail_example_summary() {
    let summary = typed_data::prepare(&mail().to_string()).unwrap().summary;
    assert_eq!(summary.chain, Some(WalletType::Evm));
    assert_eq!(summary.kind, "eip712");
    assert_eq!(summary.chain_id.as_deref(), Some("1"));
    assert_eq!(
        summary.contract.as_deref(),
        Some("0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC")
    );
    assert_eq!(summary.programs, vec!["Mail".to_string()]);
    assert!(summary.recipients.is_empty());
    assert_eq!(summary.value, None);
    assert_eq!(summary.fee, None);
    assert_eq!(summary.function_selector, None);
}

#[test]
fn a_domain_without_chain_or_contract_has_none_in_the_summary() {
    let mut data = mail();
    data["types"]["EIP712Domain"] = json!([{ "name": "name", "type": "string" }]);
    data["domain"] = json!({ "name": "Ether Mail" });
    let summary = typed_data::prepare(&data.to_string()).unwrap().summary;
    assert_eq!(summary.chain_id, None);
    assert_eq!(summary.contract, None);
}

#[test]
fn the_domain_type_may_be_left_out_and_is_derived_from_the_domain() {
    // viem and alloy derive EIP712Domain from the fields present, in the standard order, which
    // for the Mail example is the declared type.
    let mut data = mail();
    data["types"].as_object_mut().unwrap().remove("EIP712Domain");
    assert_eq!(hex::encode(digest_of(&data)), MAIL_DIGEST);
}

#[test]
fn a_domain_that_does_not_match_its_declared_type_is_refused() {
    // Declared without `version` while the domain has one: MetaMask would leave it out, alloy
    // would hash it.
    let mut missing = mail();
    missing["types"]["EIP712Domain"].as_array_mut().unwrap().remove(1);
    assert!(typed_err(&missing.to_string()).contains("EIP712Domain"));

    // Standard fields in another order.
    let mut reordered = mail();
    reordered["types"]["EIP712Domain"].as_array_mut().unwrap().swap(0, 1);
    assert!(typed_err(&reordered.to_string()).contains("EIP712Domain"));

    // A non-standard domain field.
    let mut extra = mail();
    extra["types"]["EIP712Domain"]
        .as_array_mut()
        .unwrap()
        .push(json!({ "name": "app", "type": "string" }));
    extra["domain"]["app"] = json!("x");
    typed_err(&extra.to_string());

    // Declared `salt` that the domain does not have.
    let mut declared_only = mail();
    declared_only["types"]["EIP712Domain"]
        .as_array_mut()
        .unwrap()
        .push(json!({ "name": "salt", "type": "bytes32" }));
    typed_err(&declared_only.to_string());
}

#[test]
fn primary_type_eip712_domain_signs_the_domain_alone() {
    // eth-sig-util: keccak256(0x1901 ‖ domainSeparator) with no message part.
    let mut data = mail();
    data["primaryType"] = json!("EIP712Domain");
    data.as_object_mut().unwrap().remove("message");
    let mut preimage = vec![0x19, 0x01];
    preimage.extend(hex::decode(MAIL_DOMAIN_SEPARATOR).unwrap());
    assert_eq!(digest_of(&data), keccak(&preimage));
}

#[test]
fn malformed_typed_data_is_refused() {
    let cases: Vec<(&str, String)> = vec![
        ("not JSON", "{\"types\":".into()),
        ("an array", "[1,2,3]".into()),
        (
            "a JSON string holding the object",
            serde_json::to_string(&mail().to_string()).unwrap(),
        ),
        ("no types", without(mail(), "types")),
        ("no primaryType", without(mail(), "primaryType")),
        ("no domain", without(mail(), "domain")),
        ("no message", without(mail(), "message")),
        (
            "unknown primaryType",
            with(mail(), |d| d["primaryType"] = json!("Letter")),
        ),
        (
            "message misses a field",
            with(mail(), |d| {
                d["message"].as_object_mut().unwrap().remove("contents");
            }),
        ),
        (
            "bad address",
            with(mail(), |d| d["message"]["to"]["wallet"] = json!("0x1234")),
        ),
        (
            "undefined referenced type",
            with(mail(), |d| d["types"]["Mail"][2]["type"] = json!("Letter")),
        ),
        (
            "uint8 out of range",
            with(mail(), |d| {
                d["types"]["Mail"][2]["type"] = json!("uint8");
                d["message"]["contents"] = json!(256);
            }),
        ),
        (
            "recursive type",
            with(mail(), |d| d["types"]["Person"][1]["type"] = json!("Person")),
        ),
        ("bad chainId", with(mail(), |d| d["domain"]["chainId"] = json!("one"))),
        (
            "mutually recursive types",
            with(mail(), |d| {
                d["types"]["Person"][1]["type"] = json!("Mail");
            }),
        ),
        (
            "a tuple type",
            with(mail(), |d| d["types"]["Mail"][2]["type"] = json!("(string,Person)")),
        ),
        (
            "an unclosed array",
            with(mail(), |d| d["types"]["Mail"][2]["type"] = json!("string[")),
        ),
    ];
    for (what, json) in cases {
        match typed_data::prepare(&json) {
            Err(ChainError::InvalidTypedData(_)) => {}
            other => panic!("{what}: expected InvalidTypedData, got {other:?}"),
        }
    }
}

#[test]
fn errors_do_not_carry_long_input() {
    let long = format!("0x{}", "z".repeat(10_000));
    let json = with(mail(), |d| d["message"]["to"]["wallet"] = json!(long));
    let reason = typed_err(&json);
    assert!(reason.chars().count() <= 200, "{} chars", reason.len());
    let garbage = "x".repeat(10_000);
    assert!(typed_err(&garbage).chars().count() <= 200);
}

#[test]
fn typed_data_is_for_evm_wallets() {
    let key = PublicKey::Ed25519([7; 32]);
    let signer = Account {
        wallet_type: WalletType::Solana,
        public_key: &key,
        address: "11111111111111111111111111111111",
    };
    assert!(matches!(
        transaction::prepare_typed_data(signer, &mail().to_string()),
        Err(ChainError::UnsupportedOperation(_))
    ));
}

fn without(mut data: Value, key: &str) -> String {
    data.as_object_mut().unwrap().remove(key);
    data.to_string()
}

fn with(mut data: Value, edit: impl FnOnce(&mut Value)) -> String {
    edit(&mut data);
    data.to_string()
}

// ---------------------------------------------------------------------------------------------
// Limits
// ---------------------------------------------------------------------------------------------

fn assert_too_complex(json: &str, limit: &str) {
    match typed_data::prepare(json) {
        Err(ChainError::TooComplex(reason)) => assert!(reason.contains(limit), "{limit}: {reason}"),
        other => panic!("expected TooComplex naming {limit}, got {other:?}"),
    }
}

fn assert_accepted(json: &str) {
    if let Err(e) = typed_data::prepare(json) {
        panic!("expected the typed data to hash, got {e:?}");
    }
}

/// Typed data whose primary type is `Root`, with `types` as given and `message`.
fn typed(types: Value, message: Value) -> String {
    json!({
        "types": types,
        "primaryType": "Root",
        "domain": { "name": "limits", "chainId": 1 },
        "message": message,
    })
    .to_string()
}

fn field(name: &str, ty: &str) -> Value {
    json!({ "name": name, "type": ty })
}

#[test]
fn more_type_definitions_than_the_limit_are_too_complex() {
    let with_types = |n: usize| {
        let mut types = serde_json::Map::new();
        types.insert("Root".into(), json!([field("x", "uint8")]));
        for i in 1..n {
            types.insert(format!("Unused{i}"), json!([field("y", "uint8")]));
        }
        typed(Value::Object(types), json!({ "x": 1 }))
    };
    assert_accepted(&with_types(MAX_TYPES));
    assert_too_complex(&with_types(MAX_TYPES + 1), "MAX_TYPES");
}

#[test]
fn a_type_that_expands_past_the_field_limit_is_too_complex() {
    // Root has n uint8 fields: exactly at the limit it hashes.
    let flat = |n: usize| {
        let fields: Vec<Value> = (0..n).map(|i| field(&format!("f{i}"), "uint8")).collect();
        let message: serde_json::Map<String, Value> = (0..n).map(|i| (format!("f{i}"), json!(i % 200))).collect();
        typed(json!({ "Root": fields }), Value::Object(message))
    };
    assert_accepted(&flat(MAX_TYPE_FIELDS));
    assert_too_complex(&flat(MAX_TYPE_FIELDS + 1), "MAX_TYPE_FIELDS");

    // Twenty types of two fields each of the next: a kilobyte of types that the library would
    // expand into 2^21 fields (nested 21 deep, within MAX_DEPTH). Refused before it gets there.
    let mut types = serde_json::Map::new();
    types.insert("Root".into(), json!([field("a", "T0"), field("b", "T0")]));
    for i in 0..20 {
        let next = if i == 19 {
            "uint8".to_string()
        } else {
            format!("T{}", i + 1)
        };
        types.insert(format!("T{i}"), json!([field("a", &next), field("b", &next)]));
    }
    let json = typed(Value::Object(types), json!({}));
    assert!(json.len() < 4096);
    assert_too_complex(&json, "MAX_TYPE_FIELDS");
}

#[test]
fn nesting_deeper_than_the_limit_is_too_complex() {
    // Root holds an array of `dims` dimensions: Root is one level, each dimension one more.
    let arrays = |dims: usize| {
        let mut value = json!(1);
        for _ in 0..dims {
            value = json!([value]);
        }
        typed(
            json!({ "Root": [field("x", &format!("uint8{}", "[]".repeat(dims)))] }),
            json!({ "x": value }),
        )
    };
    assert_accepted(&arrays(MAX_DEPTH - 1));
    assert_too_complex(&arrays(MAX_DEPTH), "MAX_DEPTH");

    // A chain of structs: Root → S1 → … → S(n-1), each one level.
    let chain = |n: usize| {
        let mut types = serde_json::Map::new();
        let mut message = json!({ "v": 1 });
        for i in (0..n).rev() {
            let name = if i == 0 { "Root".to_string() } else { format!("S{i}") };
            let fields = if i == n - 1 {
                json!([field("v", "uint8")])
            } else {
                message = json!({ "next": message });
                json!([field("next", &format!("S{}", i + 1))])
            };
            types.insert(name, fields);
        }
        typed(Value::Object(types), message)
    };
    assert_accepted(&chain(MAX_DEPTH));
    assert_too_complex(&chain(MAX_DEPTH + 1), "MAX_DEPTH");

    // The message itself nested too deep, even where no field reads it.
    let mut deep = json!(1);
    for _ in 0..MAX_DEPTH {
        deep = json!([deep]);
    }
    assert_too_complex(
        &typed(
            json!({ "Root": [field("x", "uint8")] }),
            json!({ "x": 1, "extra": deep }),
        ),
        "MAX_DEPTH",
    );
}

#[test]
fn arrays_longer_than_the_limit_are_too_complex() {
    let dynamic = |n: usize| typed(json!({ "Root": [field("x", "uint8[]")] }), json!({ "x": vec![7; n] }));
    assert_accepted(&dynamic(MAX_ARRAY_LEN));
    assert_too_complex(&dynamic(MAX_ARRAY_LEN + 1), "MAX_ARRAY_LEN");

    let fixed = |n: usize| {
        typed(
            json!({ "Root": [field("x", &format!("uint8[{n}]"))] }),
            json!({ "x": vec![7; n.min(MAX_ARRAY_LEN + 1)] }),
        )
    };
    assert_accepted(&fixed(MAX_ARRAY_LEN));
    assert_too_complex(&fixed(MAX_ARRAY_LEN + 1), "MAX_ARRAY_LEN");
    // A size that does not even fit in 64 bits, with an empty message.
    assert_too_complex(
        &typed(
            json!({ "Root": [field("x", "uint8[99999999999999999999999]")] }),
            json!({}),
        ),
        "MAX_ARRAY_LEN",
    );
}

#[test]
fn messages_with_more_values_or_structs_than_the_limits_are_too_complex() {
    // Root { x: uint8[][] }: the root object, the outer array, `rows` inner arrays, `rows` × 1024
    // numbers.
    let values = |rows: usize| {
        typed(
            json!({ "Root": [field("x", "uint8[][]")] }),
            json!({ "x": vec![vec![1; MAX_ARRAY_LEN]; rows] }),
        )
    };
    let rows = (MAX_VALUES - 2) / (MAX_ARRAY_LEN + 1);
    assert!(2 + rows * (MAX_ARRAY_LEN + 1) <= MAX_VALUES);
    assert_accepted(&values(rows));
    assert_too_complex(&values(rows + 1), "MAX_VALUES");

    // Root { items: Item[][] } and `unused` more types: the root and `n` items are objects.
    let structs = |n: usize, unused: usize| {
        let items: Vec<Value> = (0..n).map(|i| json!({ "a": i % 200 })).collect();
        let rows: Vec<Value> = items.chunks(MAX_ARRAY_LEN).map(|c| Value::Array(c.to_vec())).collect();
        let mut types = serde_json::Map::new();
        types.insert("Root".into(), json!([field("items", "Item[][]")]));
        types.insert("Item".into(), json!([field("a", "uint8")]));
        for i in 0..unused {
            types.insert(format!("Unused{i}"), json!([field("y", "uint8")]));
        }
        typed(Value::Object(types), json!({ "items": rows }))
    };
    assert_accepted(&structs(MAX_STRUCTS - 1, 0));
    assert_too_complex(&structs(MAX_STRUCTS, 0), "MAX_STRUCTS");

    // With the most type definitions, fewer struct values: (1 + items) × 64 at most.
    let per_type = MAX_STRUCT_WORK / MAX_TYPES;
    assert_accepted(&structs(per_type - 1, MAX_TYPES - 2));
    assert_too_complex(&structs(per_type, MAX_TYPES - 2), "MAX_STRUCT_WORK");
}

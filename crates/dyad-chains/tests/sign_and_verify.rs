//! End to end through the public API: derive the address, ask what to sign, sign it with a
//! single-party key (k256 / ed25519-dalek stand in for the MPC result, which is the same
//! signature), encode it, and check it with the verifiers each chain uses. Where a published
//! signature exists, the encoding must reproduce it byte for byte.

use base64::Engine as _;
use dyad_chains::{
    address, encode_signature, is_valid_address, message_sign_input, ChainConfig, ChainError, PublicKey, SignInput,
    Signature, WalletType,
};
use ed25519_dalek::Signer as _;
use k256::ecdsa::{RecoveryId, SigningKey, VerifyingKey};

fn secp_key(secret_hex: &str) -> (SigningKey, PublicKey) {
    let signing = SigningKey::from_slice(&hex::decode(secret_hex).unwrap()).unwrap();
    let compressed = signing.verifying_key().to_encoded_point(true);
    let public = PublicKey::Secp256k1(compressed.as_bytes().try_into().unwrap());
    (signing, public)
}

fn ecdsa_sign(signing: &SigningKey, input: &SignInput) -> Signature {
    let SignInput::Digest(digest) = input else {
        panic!("ECDSA wallet types sign digests, got {input:?}");
    };
    let (sig, id) = signing.sign_prehash_recoverable(digest.as_bytes()).unwrap();
    Signature::Secp256k1 {
        r: sig.r().to_bytes().into(),
        s: sig.s().to_bytes().into(),
        recovery_id: id.to_byte(),
    }
}

fn b64(s: &str) -> Vec<u8> {
    base64::engine::general_purpose::STANDARD.decode(s).unwrap()
}

/// Anvil/Hardhat test account 0 (its key is public by design).
const ANVIL_0_SECRET: &str = "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";

#[test]
fn evm_personal_sign_matches_viem_and_recovers_to_the_address() {
    let config = ChainConfig::default();
    let (signing, public) = secp_key(ANVIL_0_SECRET);
    let addr = address(WalletType::Evm, &public, &config).unwrap();
    assert_eq!(addr, "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266");
    assert!(is_valid_address(WalletType::Evm, &addr, &config));

    let input = message_sign_input(WalletType::Evm, &addr, b"hello world").unwrap();
    let SignInput::Digest(digest) = input else {
        panic!("EVM signs a digest");
    };
    assert_eq!(
        hex::encode(digest),
        "d9eba16ed0ecae432b71fe008c98cc872bb4cc214d3220a36f365326cf807d68"
    );

    let signature = ecdsa_sign(&signing, &input);
    // dyad-mpc's own verifier accepts exactly what this crate asks it to sign.
    public.verify(&input, &signature).unwrap();
    let encoded = encode_signature(WalletType::Evm, &signature).unwrap();
    // viem signs this digest with anvil account 0 to exactly these bytes (RFC 6979 nonces make
    // the signature deterministic): "signs raw payloads" in viem's account tests.
    assert_eq!(
        hex::encode(&encoded),
        "a461f509887bd19e312c0c58467ce8ff8e300d3c1a90b608a760c5b80318eaf1\
         5fe57c96f9175d6cd4daad4663763baa7e78836e067d0163e9a2ccf2ff753f5b1b"
    );

    // ecrecover semantics: v is 27 or 28, and the recovered key hashes to the address.
    assert_eq!(encoded.len(), 65);
    assert!(encoded[64] == 27 || encoded[64] == 28);
    let sig = k256::ecdsa::Signature::from_slice(&encoded[..64]).unwrap();
    assert!(sig.normalize_s().is_none(), "s must be low");
    let id = RecoveryId::from_byte(encoded[64] - 27).unwrap();
    let recovered = VerifyingKey::recover_from_prehash(digest.as_bytes(), &sig, id).unwrap();
    let recovered = PublicKey::Secp256k1(recovered.to_encoded_point(true).as_bytes().try_into().unwrap());
    assert_eq!(address(WalletType::Evm, &recovered, &config).unwrap(), addr);
}

#[test]
fn evm_high_s_is_normalized_and_still_recovers() {
    let config = ChainConfig::default();
    let (signing, public) = secp_key(ANVIL_0_SECRET);
    let addr = address(WalletType::Evm, &public, &config).unwrap();
    let input = message_sign_input(WalletType::Evm, &addr, b"high s").unwrap();
    let SignInput::Digest(digest) = input else {
        panic!("EVM signs a digest");
    };
    let (sig, id) = signing.sign_prehash_recoverable(digest.as_bytes()).unwrap();
    // Build the malleated twin (r, n - s) with the other recovery id, as a buggy signer might.
    let high_s = -*sig.s();
    let malleated = Signature::Secp256k1 {
        r: sig.r().to_bytes().into(),
        s: high_s.to_bytes().into(),
        recovery_id: id.to_byte() ^ 1,
    };
    let encoded = encode_signature(WalletType::Evm, &malleated).unwrap();
    let expected = encode_signature(WalletType::Evm, &ecdsa_sign(&signing, &input)).unwrap();
    assert_eq!(encoded, expected);
}

#[test]
fn cosmos_published_key_gives_published_addresses() {
    // A test key published with its addresses in Fairblock/fairyring's scripts and
    // neutron-org docs: secret a267fb03…, public key A/MdHVpi… (base64), and the same 20 bytes
    // under several prefixes.
    let (_, public) = secp_key("a267fb03b3e6dc381550ea0257ace31433698f16248ba111dfb75550364d31fe");
    assert_eq!(
        public.as_bytes(),
        b64("A/MdHVpitzHNSdD1Zw3kY+L5PEIPyd9l6sD5i4aIfXp9").as_slice()
    );
    for (prefix, expected) in [
        ("cosmos", "cosmos1m9l358xunhhwds0568za49mzhvuxx9uxre5tud"),
        ("neutron", "neutron1m9l358xunhhwds0568za49mzhvuxx9ux8xafx2"),
        ("fairy", "fairy1m9l358xunhhwds0568za49mzhvuxx9uxdra8sq"),
    ] {
        let config = ChainConfig {
            cosmos_prefix: prefix.to_owned(),
        };
        assert_eq!(address(WalletType::Cosmos, &public, &config).unwrap(), expected);
        assert!(is_valid_address(WalletType::Cosmos, expected, &config));
        assert!(!is_valid_address(
            WalletType::Cosmos,
            expected,
            &ChainConfig {
                cosmos_prefix: "other".into()
            }
        ));
    }
}

#[test]
fn cosmos_keplr_made_adr036_signature_verifies_against_our_sign_doc() {
    // A signArbitrary result (pub_key + signature) for the key above, published as the input
    // of a verifyADR36Amino example; the signed data is the signer's own address. It verifies
    // only if our sign doc bytes equal the ones the wallet signed.
    let signer = "cosmos1m9l358xunhhwds0568za49mzhvuxx9uxre5tud";
    let key = VerifyingKey::from_sec1_bytes(&b64("A/MdHVpitzHNSdD1Zw3kY+L5PEIPyd9l6sD5i4aIfXp9")).unwrap();
    let signature = k256::ecdsa::Signature::from_slice(&b64(
        "vb78/y129cOiWyQkeFF8wCKZsOyzjpILnpEVZ72o5YUhEOmQZzVPcbUqWPLR7aZQ20j6vnYhIuCQN0HEG3igFg==",
    ))
    .unwrap();
    let SignInput::Digest(digest) = message_sign_input(WalletType::Cosmos, signer, signer.as_bytes()).unwrap() else {
        panic!("COSMOS signs a digest");
    };
    use k256::ecdsa::signature::hazmat::PrehashVerifier;
    key.verify_prehash(digest.as_bytes(), &signature).unwrap();
    // A different message must not verify (the check above can fail).
    let SignInput::Digest(other) = message_sign_input(WalletType::Cosmos, signer, b"something else").unwrap() else {
        panic!("COSMOS signs a digest");
    };
    assert!(key.verify_prehash(other.as_bytes(), &signature).is_err());
}

#[test]
fn cosmos_sign_and_verify() {
    use k256::ecdsa::signature::hazmat::PrehashVerifier;
    let config = ChainConfig::default();
    let (signing, public) = secp_key("a267fb03b3e6dc381550ea0257ace31433698f16248ba111dfb75550364d31fe");
    let addr = address(WalletType::Cosmos, &public, &config).unwrap();
    let input = message_sign_input(WalletType::Cosmos, &addr, b"log in to example.com").unwrap();
    let signature = ecdsa_sign(&signing, &input);
    public.verify(&input, &signature).unwrap();
    let encoded = encode_signature(WalletType::Cosmos, &signature).unwrap();
    assert_eq!(encoded.len(), 64);
    let SignInput::Digest(digest) = input else {
        panic!("COSMOS signs a digest");
    };
    let sig = k256::ecdsa::Signature::from_slice(&encoded).unwrap();
    assert!(sig.normalize_s().is_none(), "s must be low");
    signing.verifying_key().verify_prehash(digest.as_bytes(), &sig).unwrap();
}

fn ed25519_round_trip(wallet_type: WalletType) {
    let config = ChainConfig::default();
    let signing = ed25519_dalek::SigningKey::from_bytes(&[42u8; 32]);
    let public = PublicKey::Ed25519(signing.verifying_key().to_bytes());
    let addr = address(wallet_type, &public, &config).unwrap();
    assert!(is_valid_address(wallet_type, &addr, &config));

    let message = b"Sign in to example.com\nNonce: 1234";
    let input = message_sign_input(wallet_type, &addr, message).unwrap();
    // What the chain's verifiers check the signature over: Solana the bytes themselves, Stellar
    // the SEP-53 hash (rebuilt here).
    let signed: Vec<u8> = match wallet_type {
        WalletType::Solana => message.to_vec(),
        _ => {
            use sha2::Digest;
            sha2::Sha256::digest([b"Stellar Signed Message:\n".as_slice(), message].concat()).to_vec()
        }
    };
    assert_eq!(input, SignInput::Message(signed.clone()));
    let SignInput::Message(bytes) = &input else {
        unreachable!()
    };
    let signature = Signature::Ed25519(signing.sign(bytes).to_bytes());
    public.verify(&input, &signature).unwrap();
    let encoded = encode_signature(wallet_type, &signature).unwrap();
    assert_eq!(encoded.len(), 64);

    // The verifier only gets what a chain would have: the address and the encoded signature.
    let key_bytes = match wallet_type {
        WalletType::Solana => dyad_chains::solana::decode_address(&addr).unwrap(),
        WalletType::Stellar => dyad_chains::stellar::decode_address(&addr).unwrap(),
        _ => unreachable!(),
    };
    let key = ed25519_dalek::VerifyingKey::from_bytes(&key_bytes).unwrap();
    let sig = ed25519_dalek::Signature::from_slice(&encoded).unwrap();
    key.verify_strict(&signed, &sig).unwrap();
    assert!(key.verify_strict(b"another message", &sig).is_err());
}

#[test]
fn solana_sign_and_verify_strict() {
    ed25519_round_trip(WalletType::Solana);
}

#[test]
fn stellar_sign_and_verify_strict() {
    ed25519_round_trip(WalletType::Stellar);
}

#[test]
fn message_sign_input_variants_per_type() {
    let cosmos_addr = "cosmos1h806c7khnvmjlywdrkdgk2vrayy2mmvf9rxk2r";
    assert!(matches!(
        message_sign_input(WalletType::Evm, "", b"m").unwrap(),
        SignInput::Digest(_)
    ));
    assert!(matches!(
        message_sign_input(WalletType::Cosmos, cosmos_addr, b"m").unwrap(),
        SignInput::Digest(_)
    ));
    assert_eq!(
        message_sign_input(WalletType::Solana, "", b"m").unwrap(),
        SignInput::Message(b"m".to_vec())
    );
    assert_eq!(
        message_sign_input(WalletType::Stellar, "", b"m").unwrap(),
        SignInput::Message(dyad_chains::stellar::message_hash(b"m").to_vec())
    );
    // The same message under two signers is two different digests: the signer is signed.
    assert_ne!(
        message_sign_input(WalletType::Cosmos, cosmos_addr, b"m").unwrap(),
        message_sign_input(
            WalletType::Cosmos,
            "cosmos1m9l358xunhhwds0568za49mzhvuxx9uxre5tud",
            b"m"
        )
        .unwrap()
    );
}

#[test]
fn mismatched_keys_and_signatures_are_refused() {
    let config = ChainConfig::default();
    let secp = PublicKey::Secp256k1(b64("AtQaCqFnshaZQp6rIkvAPyzThvCvXSDO+9AzbxVErqJP").try_into().unwrap());
    let ed = PublicKey::Ed25519([7; 32]);
    let ecdsa = Signature::Secp256k1 {
        r: [1; 32],
        s: [1; 32],
        recovery_id: 0,
    };
    let eddsa = Signature::Ed25519([1; 64]);
    for t in WalletType::ALL {
        let (wrong_key, wrong_sig) = match t.scheme() {
            dyad_chains::Scheme::Dkls => (&ed, &eddsa),
            dyad_chains::Scheme::Frost => (&secp, &ecdsa),
        };
        assert_eq!(address(t, wrong_key, &config), Err(ChainError::KeyMismatch), "{t}");
        assert_eq!(encode_signature(t, wrong_sig), Err(ChainError::KeyMismatch), "{t}");
    }
    // And the right kinds have the right lengths.
    assert_eq!(encode_signature(WalletType::Evm, &ecdsa).unwrap().len(), 65);
    assert_eq!(encode_signature(WalletType::Cosmos, &ecdsa).unwrap().len(), 64);
    assert_eq!(encode_signature(WalletType::Solana, &eddsa).unwrap().len(), 64);
    assert_eq!(encode_signature(WalletType::Stellar, &eddsa).unwrap().len(), 64);
}

#[test]
fn addresses_of_one_type_are_not_valid_for_another() {
    let config = ChainConfig::default();
    let samples = [
        (WalletType::Evm, "0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed"),
        (WalletType::Cosmos, "cosmos1h806c7khnvmjlywdrkdgk2vrayy2mmvf9rxk2r"),
        (WalletType::Solana, "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA"),
        (
            WalletType::Stellar,
            "GA7QYNF7SOWQ3GLR2BGMZEHXAVIRZA4KVWLTJJFC7MGXUA74P7UJVSGZ",
        ),
    ];
    for (owner, addr) in samples {
        for t in WalletType::ALL {
            assert_eq!(is_valid_address(t, addr, &config), t == owner, "{addr} as {t}");
        }
    }
}

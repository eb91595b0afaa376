//! `PublicKey` parsing and verification against keys and signatures made with the standard
//! libraries directly (no MPC), so these checks hold for any signature, however it was made.

use dyad_types::{PublicKey, Scheme, SignInput, Signature, TypesError};
use ed25519_dalek::Signer as _;

fn secp_key(secret: u8) -> (k256::ecdsa::SigningKey, PublicKey) {
    let mut bytes = [0u8; 32];
    bytes[31] = secret;
    let signing = k256::ecdsa::SigningKey::from_slice(&bytes).unwrap();
    let point = signing.verifying_key().to_encoded_point(true);
    let public = PublicKey::from_bytes(Scheme::Dkls, point.as_bytes()).unwrap();
    (signing, public)
}

fn ed_key(seed: u8) -> (ed25519_dalek::SigningKey, PublicKey) {
    let signing = ed25519_dalek::SigningKey::from_bytes(&[seed; 32]);
    let public = PublicKey::from_bytes(Scheme::Frost, signing.verifying_key().as_bytes()).unwrap();
    (signing, public)
}

fn ecdsa_sign(key: &k256::ecdsa::SigningKey, digest: &[u8; 32]) -> Signature {
    let (sig, id) = key.sign_prehash_recoverable(digest).unwrap();
    let (r, s) = sig.split_bytes();
    Signature::Secp256k1 {
        r: r.into(),
        s: s.into(),
        recovery_id: id.to_byte(),
    }
}

#[test]
fn keys_parse_only_in_their_canonical_form() {
    let (_, public) = secp_key(1);
    assert_eq!(public.scheme(), Scheme::Dkls);
    assert_eq!(public.uncompressed_secp256k1().unwrap()[0], 4);
    let bad = |scheme, bytes: &[u8]| PublicKey::from_bytes(scheme, bytes) == Err(TypesError::InvalidPublicKey);
    let mut compact = [0u8; 33];
    compact.copy_from_slice(public.as_bytes());
    compact[0] = 0x05;
    assert!(bad(Scheme::Dkls, &compact));
    assert!(bad(Scheme::Dkls, &public.uncompressed_secp256k1().unwrap()));
    assert!(bad(Scheme::Dkls, &[0u8; 33]));
    assert!(bad(Scheme::Frost, public.as_bytes()));

    let (_, ed) = ed_key(3);
    assert_eq!(ed.scheme(), Scheme::Frost);
    assert_eq!(ed.uncompressed_secp256k1(), Err(TypesError::InvalidPublicKey));
    // The identity point (y = 1) is small order.
    let mut identity = [0u8; 32];
    identity[0] = 1;
    assert!(bad(Scheme::Frost, &identity));
    assert!(bad(Scheme::Frost, &[0u8; 31]));
}

#[test]
fn ecdsa_signatures_verify_and_their_variants_do_not() {
    let (signing, public) = secp_key(7);
    let digest = [0x42u8; 32];
    let signature = ecdsa_sign(&signing, &digest);
    public
        .verify(&SignInput::Digest(dyad_types::Digest::new(digest)), &signature)
        .unwrap();

    let Signature::Secp256k1 { r, s, recovery_id } = signature.clone() else {
        unreachable!()
    };
    let flipped = Signature::Secp256k1 {
        r,
        s,
        recovery_id: recovery_id ^ 1,
    };
    assert_eq!(
        public.verify(&SignInput::Digest(dyad_types::Digest::new(digest)), &flipped),
        Err(TypesError::BadSignature)
    );
    for id in [2u8, 3] {
        let other = Signature::Secp256k1 { r, s, recovery_id: id };
        assert_eq!(
            public.verify(&SignInput::Digest(dyad_types::Digest::new(digest)), &other),
            Err(TypesError::BadSignature)
        );
    }
    let mut other_digest = digest;
    other_digest[0] ^= 1;
    assert_eq!(
        public.verify(&SignInput::Digest(dyad_types::Digest::new(other_digest)), &signature),
        Err(TypesError::BadSignature)
    );
    assert_eq!(
        public.verify(&SignInput::Message(digest.to_vec()), &signature),
        Err(TypesError::InputMismatch)
    );
    assert_eq!(signature.to_bytes()[..32], r);
}

#[test]
fn ed25519_signatures_verify_and_their_variants_do_not() {
    let (signing, public) = ed_key(9);
    let message = b"a message".to_vec();
    let signature = Signature::Ed25519(signing.sign(&message).to_bytes());
    public.verify(&SignInput::Message(message.clone()), &signature).unwrap();
    assert_eq!(
        public.verify(&SignInput::Message(b"another".to_vec()), &signature),
        Err(TypesError::BadSignature)
    );
    assert_eq!(
        public.verify(&SignInput::Digest(dyad_types::Digest::new([0; 32])), &signature),
        Err(TypesError::InputMismatch)
    );
    let (_, secp) = secp_key(1);
    assert_eq!(
        secp.verify(&SignInput::Message(message), &signature),
        Err(TypesError::InputMismatch)
    );
}

#[test]
fn signatures_serialize_as_fixed_tuples() {
    // Stored sign ceremony rows and frames hold these as postcard: the format must not move.
    let ed = Signature::Ed25519([7; 64]);
    let bytes = postcard::to_allocvec(&ed).unwrap();
    assert_eq!(bytes.len(), 1 + 64);
    assert_eq!(postcard::from_bytes::<Signature>(&bytes).unwrap(), ed);
    let json = serde_json::to_string(&ed).unwrap();
    assert_eq!(serde_json::from_str::<Signature>(&json).unwrap(), ed);
    let too_long = json.replace("[7,", "[7,7,");
    assert!(serde_json::from_str::<Signature>(&too_long).is_err());

    let ecdsa = Signature::Secp256k1 {
        r: [1; 32],
        s: [2; 32],
        recovery_id: 1,
    };
    let bytes = postcard::to_allocvec(&ecdsa).unwrap();
    assert_eq!(bytes.len(), 1 + 32 + 32 + 1);
    assert_eq!(postcard::from_bytes::<Signature>(&bytes).unwrap(), ecdsa);
}

#[test]
fn debug_shows_the_curve_and_the_key() {
    let (_, public) = secp_key(1);
    let debug = format!("{public:?}");
    assert!(
        debug.starts_with("Secp256k1(02") || debug.starts_with("Secp256k1(03"),
        "{debug}"
    );
}

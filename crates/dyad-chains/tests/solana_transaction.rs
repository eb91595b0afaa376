//! SOLANA transactions: messages and wire transactions built with Anza's own libraries
//! (`solana-message`, `solana-transaction`, `solana-system-interface`), published vectors from
//! Trust Wallet's wallet-core, and signatures checked with ed25519-dalek `verify_strict` over the
//! message bytes.

use dyad_chains::solana::OFFCHAIN_MESSAGE_HEADER;
use dyad_chains::transaction::{self, Account, TransactionRequest};
use dyad_chains::{message_sign_input, ChainError, PublicKey, SignInput, Signature, WalletType};
use dyad_test_support::fixtures::wallet_core_solana_transfer_message;
use ed25519_dalek::{Signer as _, SigningKey, VerifyingKey};
use solana_message::compiled_instruction::CompiledInstruction;
use solana_message::{
    v0, AccountMeta, Address, AddressLookupTableAccount, Hash, Instruction, Message, VersionedMessage,
};
use solana_system_interface::instruction as system;
use solana_transaction::versioned::VersionedTransaction;

const SYSTEM_PROGRAM: &str = "11111111111111111111111111111111";
const MEMO_PROGRAM: &str = "MemoSq4gqABAXKb96qnH8TuzyN8QeW1bjuw8ZCGpXNQ";

/// A wallet with a known key, standing in for the MPC group key.
struct Wallet {
    key: SigningKey,
    public_key: PublicKey,
    address: String,
}

impl Wallet {
    fn new(seed: u8) -> Self {
        let key = SigningKey::from_bytes(&[seed; 32]);
        let public_key = PublicKey::Ed25519(key.verifying_key().to_bytes());
        let address = dyad_chains::solana::address(&public_key).unwrap();
        Wallet {
            key,
            public_key,
            address,
        }
    }

    fn pubkey(&self) -> Address {
        Address::from(self.key.verifying_key().to_bytes())
    }

    fn signer(&self) -> Account<'_> {
        Account {
            wallet_type: WalletType::Solana,
            public_key: &self.public_key,
            address: &self.address,
        }
    }

    fn sign(&self, input: &SignInput) -> Signature {
        let SignInput::Message(message) = input else {
            panic!("Solana signs messages");
        };
        Signature::Ed25519(self.key.sign(message).to_bytes())
    }
}

fn request(bytes: Vec<u8>) -> TransactionRequest {
    TransactionRequest {
        bytes,
        chain_id: None,
        network_passphrase: None,
        cosmos_sign_mode: None,
    }
}

fn address(seed: u8) -> Address {
    Address::from([seed; 32])
}

fn blockhash() -> Hash {
    Hash::new_from_array([7; 32])
}

fn legacy_bytes(message: &Message) -> Vec<u8> {
    bincode::serialize(&VersionedMessage::Legacy(message.clone())).unwrap()
}

/// The wire form web3.js `serialize({requireAllSignatures: false})` gives: one zero slot per
/// required signer.
fn unsigned_wire(message: VersionedMessage) -> Vec<u8> {
    let slots = usize::from(message.header().num_required_signatures);
    let tx = VersionedTransaction {
        signatures: vec![solana_transaction::Signature::default(); slots],
        message,
    };
    bincode::serialize(&tx).unwrap()
}

/// Signs `bytes` as `wallet` through prepare/assemble and checks the result with the libraries:
/// the wire transaction decodes, sanitizes, carries the message unchanged, and the wallet's
/// signature verifies strictly over the message bytes in the wallet's slot.
fn sign_and_check(wallet: &Wallet, bytes: Vec<u8>, slot: usize) -> (transaction::Prepared, VersionedTransaction) {
    let req = request(bytes);
    let prepared = transaction::prepare(wallet.signer(), &req).unwrap();
    let SignInput::Message(message_bytes) = &prepared.input else {
        panic!("Solana sign input is the message");
    };
    let signature = wallet.sign(&prepared.input);
    let signed = transaction::assemble(wallet.signer(), &req, &signature).unwrap();
    let wire = signed.signed_transaction.clone().unwrap();
    assert!(wire.len() <= 1232);

    let tx: VersionedTransaction = bincode::deserialize(&wire).unwrap();
    tx.sanitize().unwrap();
    assert_eq!(&bincode::serialize(&tx.message).unwrap(), message_bytes);
    assert_eq!(bincode::serialize(&tx).unwrap(), wire, "canonical wire form");
    let sig_bytes: [u8; 64] = tx.signatures[slot].into();
    assert_eq!(signed.signature, sig_bytes.to_vec());
    assert_eq!(tx.message.static_account_keys()[slot], wallet.pubkey());
    VerifyingKey::from_bytes(&wallet.key.verifying_key().to_bytes())
        .unwrap()
        .verify_strict(message_bytes, &ed25519_dalek::Signature::from_bytes(&sig_bytes))
        .unwrap();
    (prepared, tx)
}

fn prepare_err(wallet: &Wallet, bytes: Vec<u8>) -> ChainError {
    transaction::prepare(wallet.signer(), &request(bytes)).unwrap_err()
}

fn assert_invalid(wallet: &Wallet, bytes: Vec<u8>, what: &str) {
    let err = prepare_err(wallet, bytes);
    assert!(matches!(err, ChainError::InvalidTransaction(_)), "{what}: {err:?}");
}

fn transfer_message(wallet: &Wallet, to: &Address, lamports: u64) -> Message {
    let pay = system::transfer(&wallet.pubkey(), to, lamports);
    Message::new_with_blockhash(&[pay], Some(&wallet.pubkey()), &blockhash())
}

#[test]
fn legacy_bare_message_is_signed_into_a_wire_transaction() {
    let wallet = Wallet::new(1);
    let to = address(9);
    let message = transfer_message(&wallet, &to, 1_000_000);
    let bytes = legacy_bytes(&message);

    let (prepared, tx) = sign_and_check(&wallet, bytes.clone(), 0);
    assert_eq!(prepared.input, SignInput::Message(bytes));
    assert_eq!(tx.signatures.len(), 1);
    let summary = prepared.summary;
    assert_eq!(summary.chain, Some(WalletType::Solana));
    assert_eq!(summary.kind, "solana-legacy");
    assert_eq!(summary.recipients, vec![to.to_string()]);
    assert_eq!(summary.value.as_deref(), Some("1000000"));
    assert_eq!(summary.programs, vec![SYSTEM_PROGRAM.to_string()]);
    assert_eq!(summary.fee, None);
    assert_eq!(summary.chain_id, None);
}

#[test]
fn legacy_wire_transaction_with_empty_slots_is_signed_in_place() {
    let wallet = Wallet::new(1);
    let message = transfer_message(&wallet, &address(9), 5);
    let wire = unsigned_wire(VersionedMessage::Legacy(message.clone()));
    // compact-u16 count 1, one zero slot, then the message.
    assert_eq!(wire[0], 1);
    assert_eq!(&wire[65..], legacy_bytes(&message).as_slice());

    let (prepared, tx) = sign_and_check(&wallet, wire.clone(), 0);
    assert_eq!(prepared.input, SignInput::Message(wire[65..].to_vec()));
    assert_eq!(tx.message, VersionedMessage::Legacy(message));
    // The same message, bare or as a wire transaction, is the same sign request.
    let bare = transaction::prepare(wallet.signer(), &request(wire[65..].to_vec())).unwrap();
    assert_eq!(bare, prepared);
}

#[test]
fn second_signer_gets_its_own_slot_and_other_signatures_are_kept() {
    let payer = Wallet::new(2);
    let wallet = Wallet::new(3);
    // The payer funds the fee; the wallet moves its own lamports, so it signs too.
    let pay = system::transfer(&wallet.pubkey(), &address(9), 42);
    let message = Message::new_with_blockhash(&[pay], Some(&payer.pubkey()), &blockhash());
    assert_eq!(message.header.num_required_signatures, 2);
    let message_bytes = legacy_bytes(&message);
    let payer_signature = payer.key.sign(&message_bytes).to_bytes();

    let tx = VersionedTransaction {
        signatures: vec![payer_signature.into(), solana_transaction::Signature::default()],
        message: VersionedMessage::Legacy(message),
    };
    let (_, signed) = sign_and_check(&wallet, bincode::serialize(&tx).unwrap(), 1);
    assert_eq!(
        <[u8; 64]>::from(signed.signatures[0]),
        payer_signature,
        "payer's signature kept"
    );

    // From a bare message, the payer's slot stays empty for the payer to fill.
    let (_, from_bare) = sign_and_check(&wallet, message_bytes, 1);
    assert_eq!(from_bare.signatures[0], solana_transaction::Signature::default());
}

#[test]
fn v0_message_with_lookup_table_is_signed_and_summarised() {
    let wallet = Wallet::new(4);
    let table_key = address(50);
    let in_table = address(51);
    let static_to = address(52);
    let table = AddressLookupTableAccount {
        key: table_key,
        addresses: vec![address(60), in_table],
    };
    let memo = Instruction::new_with_bytes(
        MEMO_PROGRAM.parse().unwrap(),
        b"dyad",
        vec![AccountMeta::new_readonly(wallet.pubkey(), true)],
    );
    let instructions = [
        system::transfer(&wallet.pubkey(), &in_table, 5),
        memo,
        system::transfer(&wallet.pubkey(), &static_to, 7),
    ];
    let message = v0::Message::try_compile(&wallet.pubkey(), &instructions, &[table], blockhash()).unwrap();
    assert_eq!(
        message.address_table_lookups.len(),
        1,
        "the library loads one account from the table"
    );
    // `static_to` is taken from the table too unless it is not in it; make it static by design.
    assert!(message.account_keys.contains(&static_to));
    let versioned = VersionedMessage::V0(message);
    let bare = bincode::serialize(&versioned).unwrap();
    assert_eq!(bare[0], 0x80);

    for bytes in [bare.clone(), unsigned_wire(versioned.clone())] {
        let (prepared, tx) = sign_and_check(&wallet, bytes, 0);
        assert_eq!(prepared.input, SignInput::Message(bare.clone()));
        assert_eq!(tx.message, versioned);
        let summary = prepared.summary;
        assert_eq!(summary.kind, "solana-v0");
        assert_eq!(
            summary.recipients,
            vec![format!("lookup:{table_key}:1"), static_to.to_string()]
        );
        assert_eq!(summary.value.as_deref(), Some("12"));
        assert_eq!(
            summary.programs,
            vec![SYSTEM_PROGRAM.to_string(), MEMO_PROGRAM.to_string()]
        );
    }
}

#[test]
fn summary_counts_system_funding_and_only_that() {
    let wallet = Wallet::new(5);
    let w = wallet.pubkey();
    let seeded = address(20);
    let owner = address(21);
    let new_account = address(22);
    let mut extended = system::transfer(&w, &address(23), 1);
    // The System Program reads its data with bincode and ignores trailing bytes, so this still
    // moves 1 lamport on chain and must be counted.
    extended.data.extend_from_slice(&[0xaa; 4]);
    let lookalike = Instruction::new_with_bytes(
        MEMO_PROGRAM.parse().unwrap(),
        &system::transfer(&w, &address(24), 1_000).data,
        vec![AccountMeta::new(w, true), AccountMeta::new(address(24), false)],
    );
    let instructions = [
        system::create_account(&w, &new_account, 300, 0, &owner),
        system::transfer_with_seed(&seeded, &w, "seed".into(), &owner, &address(25), 40),
        extended,
        lookalike,
        system::assign(&w, &owner),
    ];
    let message = Message::new_with_blockhash(&instructions, Some(&w), &blockhash());
    // create_account makes the new account a signer; sign as the wallet only.
    let prepared = transaction::prepare(wallet.signer(), &request(legacy_bytes(&message))).unwrap();
    assert_eq!(
        prepared.summary.recipients,
        vec![
            new_account.to_string(),
            address(25).to_string(),
            address(23).to_string()
        ]
    );
    assert_eq!(prepared.summary.value.as_deref(), Some("341"));
    assert_eq!(
        prepared.summary.programs,
        vec![SYSTEM_PROGRAM.to_string(), MEMO_PROGRAM.to_string()]
    );

    // No System transfer at all: no value, not "0".
    let memo_only = Instruction::new_with_bytes(MEMO_PROGRAM.parse().unwrap(), b"hi", vec![AccountMeta::new(w, true)]);
    let message = Message::new_with_blockhash(&[memo_only], Some(&w), &blockhash());
    let prepared = transaction::prepare(wallet.signer(), &request(legacy_bytes(&message))).unwrap();
    assert_eq!(prepared.summary.value, None);
    assert!(prepared.summary.recipients.is_empty());
}

#[test]
fn wallet_that_is_not_a_required_signer_is_refused() {
    let wallet = Wallet::new(6);
    let payer = Wallet::new(7);
    // The wallet is in the message, but only as a (writable, unsigned) recipient.
    let message = transfer_message(&payer, &wallet.pubkey(), 10);
    for bytes in [legacy_bytes(&message), unsigned_wire(VersionedMessage::Legacy(message))] {
        let err = prepare_err(&wallet, bytes);
        assert!(matches!(err, ChainError::NotASigner(_)), "{err:?}");
    }
    let elsewhere = transfer_message(&payer, &address(9), 10);
    assert!(matches!(
        prepare_err(&wallet, legacy_bytes(&elsewhere)),
        ChainError::NotASigner(_)
    ));
}

#[test]
fn filled_slot_wrong_slot_count_and_bad_encodings_are_invalid() {
    let wallet = Wallet::new(8);
    let message = transfer_message(&wallet, &address(9), 10);
    let message_bytes = legacy_bytes(&message);
    let wire = unsigned_wire(VersionedMessage::Legacy(message.clone()));

    // Our slot already holds a signature.
    let mut filled = wire.clone();
    filled[1..65].copy_from_slice(&wallet.key.sign(&message_bytes).to_bytes());
    assert_invalid(&wallet, filled, "filled slot");

    // Two slots for one required signer, and zero slots.
    let mut two = vec![2u8];
    two.extend_from_slice(&[0; 128]);
    two.extend_from_slice(&message_bytes);
    assert_invalid(&wallet, two, "two slots");
    let mut none = vec![0u8];
    none.extend_from_slice(&message_bytes);
    assert_invalid(&wallet, none, "no slots");

    // A non-canonical (alias) compact-u16 length: the key count 3 written as 0x83 0x00.
    assert_eq!(message_bytes[3], 3);
    for (base, at) in [(&message_bytes, 3), (&wire, 65 + 3)] {
        let mut alias = base[..at].to_vec();
        alias.extend_from_slice(&[0x83, 0x00]);
        alias.extend_from_slice(&base[at + 1..]);
        assert_invalid(&wallet, alias, "alias length");
    }

    // Trailing bytes after a message and after a transaction.
    for base in [&message_bytes, &wire] {
        let mut trailing = base.clone();
        trailing.push(0);
        assert_invalid(&wallet, trailing, "trailing byte");
    }

    // Every truncation of both forms.
    for base in [&message_bytes, &wire] {
        for len in 0..base.len() {
            assert_invalid(&wallet, base[..len].to_vec(), &format!("truncated to {len}"));
        }
    }

    // Garbage, and more than a packet.
    assert_invalid(&wallet, vec![0x42; 300], "garbage");
    assert_invalid(&wallet, vec![1; 1233], "oversized");
}

#[test]
fn out_of_range_indexes_and_duplicate_keys_are_invalid() {
    let wallet = Wallet::new(10);
    let message = transfer_message(&wallet, &address(9), 10);

    let mut program_out = message.clone();
    program_out.instructions[0].program_id_index = 99;
    assert_invalid(&wallet, legacy_bytes(&program_out), "program index");

    let mut account_out = message.clone();
    account_out.instructions[0].accounts[1] = 3;
    assert_invalid(&wallet, legacy_bytes(&account_out), "account index");

    let mut payer_as_program = message.clone();
    payer_as_program.instructions[0].program_id_index = 0;
    assert_invalid(&wallet, legacy_bytes(&payer_as_program), "payer as program");

    let mut header_out = message.clone();
    header_out.header.num_required_signatures = 4;
    assert_invalid(&wallet, legacy_bytes(&header_out), "header beyond the keys");

    let mut duplicate = message.clone();
    duplicate.account_keys[1] = wallet.pubkey();
    assert_invalid(&wallet, legacy_bytes(&duplicate), "duplicate key");

    // A v0 instruction pointing past the loaded accounts.
    let mut v0_message = v0::Message::try_compile(
        &wallet.pubkey(),
        &[system::transfer(&wallet.pubkey(), &address(9), 1)],
        &[],
        blockhash(),
    )
    .unwrap();
    v0_message
        .instructions
        .push(CompiledInstruction::new_from_raw_parts(2, vec![], vec![5]));
    let bytes = bincode::serialize(&VersionedMessage::V0(v0_message)).unwrap();
    assert_invalid(&wallet, bytes, "v0 account index");
}

#[test]
fn other_message_versions_are_unsupported() {
    let wallet = Wallet::new(11);
    let message = transfer_message(&wallet, &address(9), 10);
    let mut v1 = vec![0x81];
    v1.extend_from_slice(&legacy_bytes(&message));
    let mut offchain = vec![0xff];
    offchain.extend_from_slice(b"solana offchain");
    for bytes in [v1, offchain] {
        let err = prepare_err(&wallet, bytes);
        assert!(matches!(err, ChainError::UnsupportedTransaction(_)), "{err:?}");
    }
}

#[test]
fn parameters_keys_and_signatures_are_checked() {
    let wallet = Wallet::new(12);
    let bytes = legacy_bytes(&transfer_message(&wallet, &address(9), 10));

    for req in [
        TransactionRequest {
            chain_id: Some(1),
            ..request(bytes.clone())
        },
        TransactionRequest {
            network_passphrase: Some("Test SDF Network ; September 2015".into()),
            ..request(bytes.clone())
        },
    ] {
        let err = transaction::prepare(wallet.signer(), &req).unwrap_err();
        assert!(matches!(err, ChainError::InvalidParameter(_)), "{err:?}");
    }

    let secp = PublicKey::Secp256k1([2; 33]);
    let wrong_key = Account {
        public_key: &secp,
        ..wallet.signer()
    };
    assert_eq!(
        transaction::prepare(wrong_key, &request(bytes.clone())),
        Err(ChainError::KeyMismatch)
    );

    let req = request(bytes);
    let prepared = transaction::prepare(wallet.signer(), &req).unwrap();
    let other = Wallet::new(13);
    assert!(matches!(
        transaction::assemble(wallet.signer(), &req, &other.sign(&prepared.input)),
        Err(ChainError::InvalidSignature(_))
    ));
    let ecdsa = Signature::Secp256k1 {
        r: [1; 32],
        s: [1; 32],
        recovery_id: 0,
    };
    assert_eq!(
        transaction::assemble(wallet.signer(), &req, &ecdsa),
        Err(ChainError::KeyMismatch)
    );
}

#[test]
fn errors_do_not_echo_the_input() {
    let wallet = Wallet::new(14);
    let garbage: Vec<u8> = (0..1000u32).map(|i| (i * 7 + 3) as u8).collect();
    let text = prepare_err(&wallet, garbage.clone()).to_string();
    assert!(text.len() < 400, "{text}");
    assert!(!text.contains(&hex::encode(&garbage[..16])));
}

/// Trust Wallet wallet-core, tests/chains/Solana/TransactionTests.cpp, `TransferMessageData`:
/// the message of a 42-lamport transfer, hex as published (`dyad-test-support`).
#[test]
fn wallet_core_transfer_message_vector() {
    let message = wallet_core_solana_transfer_message();
    let from = dyad_chains::solana::decode_address("6eoo7i1khGhVm8tLBMAdq4ax2FxkKP4G7mCcfHyr3STN").unwrap();
    let public_key = PublicKey::Ed25519(from);
    let signer = Account {
        wallet_type: WalletType::Solana,
        public_key: &public_key,
        address: "6eoo7i1khGhVm8tLBMAdq4ax2FxkKP4G7mCcfHyr3STN",
    };
    let prepared = transaction::prepare(signer, &request(message.clone())).unwrap();
    assert_eq!(prepared.input, SignInput::Message(message));
    assert_eq!(prepared.summary.kind, "solana-legacy");
    assert_eq!(
        prepared.summary.recipients,
        vec!["56B334QvCDMSirsmtEJGfanZm8GqeQarrSjdAb2MbeNM".to_string()]
    );
    assert_eq!(prepared.summary.value.as_deref(), Some("42"));
    assert_eq!(prepared.summary.programs, vec![SYSTEM_PROGRAM.to_string()]);
}

/// Trust Wallet wallet-core, tests/chains/Solana/TransactionTests.cpp,
/// `TransferTokenTransaction_3vZ67C`: a transaction that landed on mainnet (signature
/// 3vZ67C…, an SPL token transfer by B1iGmDJd…), base58 as published. Emptying its signature
/// slot and assembling with the published signature must give back the published bytes.
#[test]
fn wallet_core_mainnet_token_transfer_vector() {
    let published = bs58::decode(concat!(
        "PGfKqEaH2zZXDMZLcU6LUKdBSzU1GJWJ1CJXtRYCxaCH7k8uok38WSadZfrZw3TGejiau7nSpan2GvbK26hQim24jR",
        "e2AupmcYJFrgsdaCt1Aqs5kpGjPqzgj9krgxTZwwob3xgC1NdHK5BcNwhxwRtrCphGEH7zUFpGFrFrHzgpf2KY8FvP",
        "iPELQyxzTBuyNtjLjMMreehSKShEjD9Xzp1QeC1pEF8JL6vUKzxMXuveoEYem8q8JiWszYzmTMfDk13JPgv7pXFGMq",
        "DV3yNGCLsWccBeSFKN4UKECre6x2QbUEiKGkHkMc4zQwwyD8tGmEMBAGm339qdANssEMNpDeJp2LxLDStSoWShHnot",
        "crH7pUa94xCVvCPPaomF"
    ))
    .into_vec()
    .unwrap();
    let published_signature =
        bs58::decode("3vZ67CGoRYkuT76TtpP2VrtTPBfnvG2xj6mUTvvux46qbnpThgQDgm27nC3yQVUZrABFjT9Qo7vA74tCjtV5P9Xg")
            .into_vec()
            .unwrap();
    assert_eq!(published[0], 1);
    assert_eq!(&published[1..65], published_signature.as_slice());

    let signer_address = "B1iGmDJdvmxyUiYM8UEo2Uw2D58EmUrw4KyLYMmrhf8V";
    let public_key = PublicKey::Ed25519(dyad_chains::solana::decode_address(signer_address).unwrap());
    let signer = Account {
        wallet_type: WalletType::Solana,
        public_key: &public_key,
        address: signer_address,
    };
    // The published, signed transaction cannot be signed again.
    assert!(matches!(
        transaction::prepare(signer, &request(published.clone())),
        Err(ChainError::InvalidTransaction(_))
    ));

    let mut unsigned = published.clone();
    unsigned[1..65].fill(0);
    let req = request(unsigned);
    let prepared = transaction::prepare(signer, &req).unwrap();
    assert_eq!(prepared.input, SignInput::Message(published[65..].to_vec()));
    assert_eq!(
        prepared.summary.programs,
        vec!["TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA".to_string()]
    );
    assert!(prepared.summary.recipients.is_empty());
    assert_eq!(prepared.summary.value, None);

    let signature = Signature::Ed25519(published_signature.try_into().unwrap());
    let signed = transaction::assemble(signer, &req, &signature).unwrap();
    assert_eq!(signed.signed_transaction, Some(published));
}

// ---------------------------------------------------------------------------------------------
// signMessage: never a transaction's message
// ---------------------------------------------------------------------------------------------

fn message_input(bytes: &[u8]) -> Result<SignInput, ChainError> {
    message_sign_input(WalletType::Solana, "", bytes)
}

fn assert_refused_as(bytes: &[u8], what: &str) {
    match message_input(bytes) {
        Err(ChainError::MessageIsTransaction(text)) => assert!(text.contains(what), "{what}: {text}"),
        other => panic!("{what}: expected MessageIsTransaction, got {other:?}"),
    }
}

#[test]
fn transaction_messages_and_wire_transactions_are_refused_as_messages() {
    let wallet = Wallet::new(20);
    let legacy = transfer_message(&wallet, &address(9), 1_000);
    let legacy_bare = legacy_bytes(&legacy);
    let v0 = VersionedMessage::V0(
        v0::Message::try_compile(
            &wallet.pubkey(),
            &[system::transfer(&wallet.pubkey(), &address(9), 1_000)],
            &[],
            blockhash(),
        )
        .unwrap(),
    );
    let v0_bare = bincode::serialize(&v0).unwrap();
    assert_eq!(v0_bare[0], 0x80);
    // The runtime's own decoder reads each of these, so a signature over them would be (or
    // contain) a signature of a transaction.
    let signed_wire = bincode::serialize(&VersionedTransaction {
        signatures: vec![wallet.key.sign(&legacy_bare).to_bytes().into()],
        message: VersionedMessage::Legacy(legacy.clone()),
    })
    .unwrap();
    // Refused whether or not the wallet signs it or the runtime would sanitize it: the bytes
    // being a message is enough.
    let foreign = legacy_bytes(&transfer_message(&Wallet::new(21), &address(9), 1));
    let mut unsanitized = legacy.clone();
    unsanitized.instructions[0].program_id_index = 200;
    // 37 zero bytes: a legacy message with no keys and no instructions.
    let zeros = vec![0u8; 37];
    bincode::deserialize::<VersionedMessage>(&zeros).unwrap();

    for (bytes, what) in [
        (legacy_bare.clone(), "a legacy message"),
        (v0_bare.clone(), "a v0 message"),
        (
            unsigned_wire(VersionedMessage::Legacy(legacy.clone())),
            "a wire transaction",
        ),
        (unsigned_wire(v0.clone()), "a wire transaction"),
        (signed_wire, "a wire transaction"),
        (foreign, "a legacy message"),
        (legacy_bytes(&unsanitized), "a legacy message"),
        (zeros, "a legacy message"),
    ] {
        assert_refused_as(&bytes, what);
    }
    // And through SignRequest, as the server and the SDK call it.
    let err = dyad_chains::SignRequest::Message(legacy_bare)
        .prepare(wallet.signer())
        .unwrap_err();
    assert!(matches!(err, ChainError::MessageIsTransaction(_)), "{err:?}");
}

#[test]
fn a_transaction_message_larger_than_a_packet_is_still_refused() {
    let wallet = Wallet::new(22);
    let memo = Instruction::new_with_bytes(
        MEMO_PROGRAM.parse().unwrap(),
        &[b'x'; 2000],
        vec![AccountMeta::new_readonly(wallet.pubkey(), true)],
    );
    let message = Message::new_with_blockhash(&[memo], Some(&wallet.pubkey()), &blockhash());
    let bytes = legacy_bytes(&message);
    assert!(bytes.len() > dyad_chains::solana::PACKET_DATA_SIZE);
    // Too large to send today, but not to sign as a message.
    assert_invalid(&wallet, bytes.clone(), "a message over a packet");
    assert_refused_as(&bytes, "a legacy message");
    assert_refused_as(&unsigned_wire(VersionedMessage::Legacy(message)), "a wire transaction");
}

#[test]
fn off_chain_messages_text_and_near_misses_are_signed_as_given() {
    let wallet = Wallet::new(23);
    // An off-chain message v0 (header, version 0, application domain, format 0, one signer,
    // length, text), as `solana sign-offchain-message` lays it out.
    let text = b"Sign in to example.com";
    let mut offchain = OFFCHAIN_MESSAGE_HEADER.to_vec();
    assert_eq!(offchain, b"\xffsolana offchain");
    offchain.push(0);
    offchain.extend_from_slice(&[7; 32]);
    offchain.push(0);
    offchain.push(1);
    offchain.extend_from_slice(&wallet.key.verifying_key().to_bytes());
    offchain.extend_from_slice(&(text.len() as u16).to_le_bytes());
    offchain.extend_from_slice(text);

    // A transaction message with one byte more or less is not a message the runtime reads.
    let bare = legacy_bytes(&transfer_message(&wallet, &address(9), 1));
    let mut longer = bare.clone();
    longer.push(0);
    let shorter = bare[..bare.len() - 1].to_vec();
    for bytes in [
        offchain,
        OFFCHAIN_MESSAGE_HEADER.to_vec(),
        text.to_vec(),
        b"{\"nonce\":\"8d1f\"}".to_vec(),
        vec![0, 0xff, 0x80, b'\n', 0xc3],
        longer.clone(),
        shorter,
        vec![],
    ] {
        assert_eq!(message_input(&bytes).unwrap(), SignInput::Message(bytes));
    }

    // The signature of the longer bytes is no signature of the transaction message.
    let signature = wallet.key.sign(&longer);
    let key = VerifyingKey::from_bytes(&wallet.key.verifying_key().to_bytes()).unwrap();
    key.verify_strict(&longer, &signature).unwrap();
    assert!(key.verify_strict(&bare, &signature).is_err());
}

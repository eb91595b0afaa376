//! EVM transactions through the public API: decode the unsigned transaction, sign its digest
//! with a single-party k256 key (RFC 6979, the same signature the MPC ceremony yields), assemble,
//! and compare with published signed transactions byte for byte.
//!
//! Vector sources:
//! - EIP-155 (ethereum/EIPs, EIPS/eip-155.md, "Example"): signing data, signing hash, key
//!   0x4646…46 and the signed transaction.
//! - wevm/ox, src/internal/transactionEnvelope/serializeTransactionEnvelope.test.ts: EIP-1559,
//!   EIP-2930 and EIP-155 (chain 69) transactions signed with test account 0 of the
//!   "test … junk" mnemonic (Anvil/Hardhat account 0).
//! - alloy-rs/alloy, crates/consensus/src/transaction/eip1559.rs, `recover_signer_eip1559`: a
//!   mainnet EIP-1559 transaction (hash 0x0ec0b6a2…), its signing hash, signature and sender.

use dyad_chains::evm;
use dyad_chains::transaction::{self, Account, TransactionRequest, TxSummary};
use dyad_chains::{address, message_sign_input, ChainConfig, ChainError, PublicKey, SignInput, Signature, WalletType};
// EIP-155 example: "signing data" (the unsigned 9-field form) and "signing hash".
use dyad_test_support::fixtures::{EIP155_SIGNING_HASH, EIP155_UNSIGNED as EIP155_SIGNING_DATA};
use k256::ecdsa::{RecoveryId, Signature as K256Signature, SigningKey, VerifyingKey};
use sha3::{Digest, Keccak256};

/// Anvil/Hardhat test account 0 (its key is public by design).
const ANVIL_0_SECRET: &str = "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80";
/// Anvil/Hardhat test account 1's address.
const ANVIL_1: &str = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8";

/// The EIP-155 example's private key.
const EIP155_SECRET: &str = "4646464646464646464646464646464646464646464646464646464646464646";
/// EIP-155 example, the unsigned transaction in the 6-field form (the spec's signing data below
/// without `chainId, 0, 0`, with the list header shortened by 3 bytes).
const EIP155_UNSIGNED_6: &str = "e9098504a817c800825208943535353535353535353535353535353535353535880de0b6b3a764000080";
/// EIP-155 example: "signed tx".
const EIP155_SIGNED: &str = "f86c098504a817c800825208943535353535353535353535353535353535353535880de0b6b3a76400008025a028ef61340bd939bc2195fe537567866003e1a15d3c71ff63e1590620aa636276a067cbe9d8997f761aecb703304b3800ccf555c9f3dc64214b297fb1966a3b6d83";

/// ox, describe('eip1559') 'default': chain 1, nonce 785, maxFee = maxPriorityFee = 2 gwei,
/// to account 1, value 1 ether, no gas limit.
const OX_1559_UNSIGNED: &str =
    "02ef0182031184773594008477359400809470997970c51812dc3a010c7d01b50e0d17dc79c8880de0b6b3a764000080c0";
/// ox, describe('eip1559') 'options: signature' (signed by account 0).
const OX_1559_SIGNED: &str = "02f8720182031184773594008477359400809470997970c51812dc3a010c7d01b50e0d17dc79c8880de0b6b3a764000080c001a0ce18214ff9d06ecaacb61811f9d6dc2be922e8cebddeaf6df0b30d5c498f6d33a05f0487c6dbbf2139f7c705d8054dbb16ecac8ae6256ce2c4c6f2e7ef35b3a496";

/// ox, describe('eip2930') 'default': chain 1, nonce 785, gasPrice 2 gwei, to account 1,
/// 1 ether, one access list entry with one storage key.
const OX_2930_UNSIGNED: &str = "01f863018203118477359400809470997970c51812dc3a010c7d01b50e0d17dc79c8880de0b6b3a764000080f838f7941234512345123451234512345123451234512345e1a060fdd29ff912ce880cd3edaf9f932dc61d3dae823ea77e0323f94adb9f6a72fe";
/// ox, describe('eip2930') 'options: signature' (signed by account 0).
const OX_2930_SIGNED: &str = "01f8a6018203118477359400809470997970c51812dc3a010c7d01b50e0d17dc79c8880de0b6b3a764000080f838f7941234512345123451234512345123451234512345e1a060fdd29ff912ce880cd3edaf9f932dc61d3dae823ea77e0323f94adb9f6a72fe01a0dc7b3483c0b183823f07d77247c60678d861080acdc4fb8b9fd131770b475c40a040f16567391132746735aff4d5a3fa5ae42ff3d5d538e341870e0259dc40741a";

/// ox, describe('legacy') 'default': nonce 785, gasPrice 2 gwei, to account 1, 1 ether (6 fields).
const OX_LEGACY_UNSIGNED_6: &str = "e88203118477359400809470997970c51812dc3a010c7d01b50e0d17dc79c8880de0b6b3a764000080";
/// ox, describe('legacy') 'chainId': the same with chainId 69, EIP-155 form (9 fields).
const OX_LEGACY_UNSIGNED_9: &str =
    "eb8203118477359400809470997970c51812dc3a010c7d01b50e0d17dc79c8880de0b6b3a764000080458080";
/// ox, describe('legacy') 'behavior: signature + chainId' (signed by account 0, v = 0xad = 173).
const OX_LEGACY_SIGNED_69: &str = "f86c8203118477359400809470997970c51812dc3a010c7d01b50e0d17dc79c8880de0b6b3a76400008081ada02f43314322cf4c5dd645b028aa0b0dadff0fb73c41a6f0620ff1dfb11601ac30a066f37a65e139fa4b6df33a42ab5ccaeaa7a109382e7430caefd1deee63962626";

/// alloy's `recover_signer_eip1559`, the mainnet transaction as unsigned bytes, spelled out
/// field by field here (not produced by the library under test).
fn alloy_mainnet_1559_unsigned() -> Vec<u8> {
    let calldata = "a22cb465\
                    0000000000000000000000005eee75727d804a2b13038928d36f8b188945a57a\
                    0000000000000000000000000000000000000000000000000000000000000000";
    let fields = [
        "01",                                         // chainId 1
        "42",                                         // nonce 0x42
        "843b9aca00",                                 // maxPriorityFeePerGas 1 gwei
        "8504a817c800",                               // maxFeePerGas 20 gwei
        "82ad62",                                     // gasLimit 44386
        "946069a6c32cf691f5982febae4faf8a6f3ab2f0f6", // to
        "80",                                         // value 0
        &format!("b844{calldata}"),                   // data, 68 bytes
        "c0",                                         // access list []
    ]
    .concat();
    // 109 = 0x6d bytes of fields: a long list header.
    assert_eq!(fields.len() / 2, 0x6d);
    hex::decode(format!("02f86d{fields}")).unwrap()
}
const ALLOY_MAINNET_SIGNING_HASH: &str = "0d5688ac3897124635b6cf1bc0e29d6dfebceebdc10a54d74f2ef8b56535b682";
const ALLOY_MAINNET_R: &str = "840cfc572845f5786e702984c2a582528cad4b49b2a10b9db1be7fca90058565";
const ALLOY_MAINNET_S: &str = "25e7109ceb98168d95b09b18bbf6b685130e0562f233877d492b94eee0c5b6d1";
const ALLOY_MAINNET_TX_HASH: &str = "0ec0b6a2df4d87424e5f6ad2a654e27aaeb7dac20ae9e8385cc09087ad532ee0";
const ALLOY_MAINNET_SENDER: &str = "0xdd6b8b3dc6b7ad97db52f08a275ff4483e024cea";

/// The secp256k1 group order n (SEC 2, 2.4.1), for building a high-s twin.
const SECP256K1_N: &str = "fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141";

struct Wallet {
    signing: SigningKey,
    public: PublicKey,
    address: String,
}

impl Wallet {
    fn from_secret(secret_hex: &str) -> Self {
        let signing = SigningKey::from_slice(&hex::decode(secret_hex).unwrap()).unwrap();
        let public = public_key(signing.verifying_key());
        let address = address(WalletType::Evm, &public, &ChainConfig::default()).unwrap();
        Wallet {
            signing,
            public,
            address,
        }
    }

    fn signer(&self) -> Account<'_> {
        Account {
            wallet_type: WalletType::Evm,
            public_key: &self.public,
            address: &self.address,
        }
    }

    /// RFC 6979 deterministic signature over `input` (low-s, as k256 always gives).
    fn sign(&self, input: &SignInput) -> Signature {
        let SignInput::Digest(digest) = input else {
            panic!("EVM transactions sign digests, got {input:?}");
        };
        let (sig, id) = self.signing.sign_prehash_recoverable(digest.as_bytes()).unwrap();
        Signature::Secp256k1 {
            r: sig.r().to_bytes().into(),
            s: sig.s().to_bytes().into(),
            recovery_id: id.to_byte(),
        }
    }
}

fn public_key(key: &VerifyingKey) -> PublicKey {
    PublicKey::Secp256k1(key.to_encoded_point(true).as_bytes().try_into().unwrap())
}

fn request(bytes: Vec<u8>, chain_id: u64) -> TransactionRequest {
    TransactionRequest {
        bytes,
        chain_id: Some(chain_id),
        network_passphrase: None,
        cosmos_sign_mode: None,
    }
}

fn unhex(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap()
}

fn digest_of(input: &SignInput) -> [u8; 32] {
    match input {
        SignInput::Digest(d) => *d.as_bytes(),
        other => panic!("expected a digest, got {other:?}"),
    }
}

/// Prepares, signs with `wallet`, assembles; returns (digest, signature, signed tx, summary).
fn sign_through(wallet: &Wallet, req: &TransactionRequest) -> ([u8; 32], Vec<u8>, Vec<u8>, TxSummary) {
    let prepared = transaction::prepare(wallet.signer(), req).unwrap();
    let signature = wallet.sign(&prepared.input);
    let signed = transaction::assemble(wallet.signer(), req, &signature).unwrap();
    (
        digest_of(&prepared.input),
        signed.signature,
        signed.signed_transaction.expect("an EVM transaction has a signed form"),
        prepared.summary,
    )
}

/// The (r, s, v) at the end of a signed transaction: the last 32-byte r and s strings.
fn r_s_of(signed: &[u8]) -> ([u8; 32], [u8; 32]) {
    let n = signed.len();
    // ... ‖ 0xa0 r(32) ‖ 0xa0 s(32); holds for all vectors here (r and s have no leading zero).
    assert_eq!(signed[n - 33], 0xa0);
    assert_eq!(signed[n - 66], 0xa0);
    (
        signed[n - 65..n - 33].try_into().unwrap(),
        signed[n - 32..].try_into().unwrap(),
    )
}

// ---------------------------------------------------------------------------------------------
// Published vectors
// ---------------------------------------------------------------------------------------------

#[test]
fn eip155_example_legacy_six_fields_reproduces_the_spec() {
    // The spec's own constants agree with each other (independent keccak).
    assert_eq!(
        hex::encode(Keccak256::digest(unhex(EIP155_SIGNING_DATA))),
        EIP155_SIGNING_HASH
    );

    let wallet = Wallet::from_secret(EIP155_SECRET);
    let (digest, signature, signed, summary) = sign_through(&wallet, &request(unhex(EIP155_UNSIGNED_6), 1));
    assert_eq!(hex::encode(digest), EIP155_SIGNING_HASH);
    assert_eq!(hex::encode(&signed), EIP155_SIGNED);

    // The 65-byte form: the spec's r and s, v = 27 + recovery id (spec v 37 = 1*2 + 35 + 0).
    let (r, s) = r_s_of(&signed);
    assert_eq!(&signature[..32], &r);
    assert_eq!(&signature[32..64], &s);
    assert_eq!(signature[64], 27);

    assert_eq!(summary.chain, Some(WalletType::Evm));
    assert_eq!(summary.kind, "legacy");
    assert_eq!(summary.chain_id.as_deref(), Some("1"));
    assert_eq!(summary.recipients.len(), 1);
    assert!(summary.recipients[0].eq_ignore_ascii_case("0x3535353535353535353535353535353535353535"));
    assert_eq!(summary.value.as_deref(), Some("1000000000000000000"));
    // 21000 gas × 20 gwei.
    assert_eq!(summary.fee.as_deref(), Some("420000000000000"));
    assert_eq!(summary.contract, None);
    assert_eq!(summary.function_selector, None);
    assert!(summary.programs.is_empty());
}

#[test]
fn eip155_example_in_the_nine_field_signing_form_gives_the_same_bytes() {
    let wallet = Wallet::from_secret(EIP155_SECRET);
    let (digest, _, signed, _) = sign_through(&wallet, &request(unhex(EIP155_SIGNING_DATA), 1));
    assert_eq!(hex::encode(digest), EIP155_SIGNING_HASH);
    assert_eq!(hex::encode(signed), EIP155_SIGNED);
}

#[test]
fn ox_legacy_chain_69_in_both_forms() {
    let wallet = Wallet::from_secret(ANVIL_0_SECRET);
    assert_eq!(wallet.address, "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266");
    let nine = unhex(OX_LEGACY_UNSIGNED_9);
    for bytes in [unhex(OX_LEGACY_UNSIGNED_6), nine.clone()] {
        let (digest, signature, signed, summary) = sign_through(&wallet, &request(bytes, 69));
        // The EIP-155 signing hash is keccak256 of the 9-field form.
        assert_eq!(digest.as_slice(), Keccak256::digest(&nine).as_slice());
        assert_eq!(hex::encode(&signed), OX_LEGACY_SIGNED_69);
        // v = 173 = 69*2 + 35 + 0.
        assert_eq!(signature[64], 27);
        assert_eq!(summary.chain_id.as_deref(), Some("69"));
        assert_eq!(summary.recipients, vec![ANVIL_1.to_string()]);
    }
}

#[test]
fn ox_eip1559_round_trip() {
    let wallet = Wallet::from_secret(ANVIL_0_SECRET);
    let unsigned = unhex(OX_1559_UNSIGNED);
    let (digest, signature, signed, summary) = sign_through(&wallet, &request(unsigned.clone(), 1));
    // The typed signing hash is keccak256(type ‖ rlp(fields)): the unsigned bytes as given.
    assert_eq!(digest.as_slice(), Keccak256::digest(&unsigned).as_slice());
    assert_eq!(hex::encode(&signed), OX_1559_SIGNED);
    // yParity 1 in the transaction, v = 28 in the 65-byte form.
    assert_eq!(signature[64], 28);
    assert_eq!(&signature[..32], &r_s_of(&signed).0);

    assert_eq!(summary.kind, "eip1559");
    assert_eq!(summary.chain_id.as_deref(), Some("1"));
    assert_eq!(summary.recipients, vec![ANVIL_1.to_string()]);
    assert_eq!(summary.value.as_deref(), Some("1000000000000000000"));
    // No gas limit in this vector: the most it can cost is 0.
    assert_eq!(summary.fee.as_deref(), Some("0"));
    assert_eq!(summary.contract, None);
    assert_eq!(summary.function_selector, None);
}

#[test]
fn ox_eip2930_round_trip() {
    let wallet = Wallet::from_secret(ANVIL_0_SECRET);
    let unsigned = unhex(OX_2930_UNSIGNED);
    let (digest, signature, signed, summary) = sign_through(&wallet, &request(unsigned.clone(), 1));
    assert_eq!(digest.as_slice(), Keccak256::digest(&unsigned).as_slice());
    assert_eq!(hex::encode(&signed), OX_2930_SIGNED);
    assert_eq!(signature[64], 28);
    assert_eq!(summary.kind, "eip2930");
    assert_eq!(summary.recipients, vec![ANVIL_1.to_string()]);
    assert_eq!(summary.fee.as_deref(), Some("0"));
}

#[test]
fn alloy_mainnet_eip1559_reproduces_the_chain_hash() {
    let unsigned = alloy_mainnet_1559_unsigned();
    let r: [u8; 32] = unhex(ALLOY_MAINNET_R).try_into().unwrap();
    let s: [u8; 32] = unhex(ALLOY_MAINNET_S).try_into().unwrap();
    let signing_hash: [u8; 32] = unhex(ALLOY_MAINNET_SIGNING_HASH).try_into().unwrap();
    assert_eq!(Keccak256::digest(&unsigned).as_slice(), signing_hash.as_slice());

    // No private key here: recover the sender's key independently with k256 and check it is the
    // published sender, then assemble with the published signature.
    let k256_sig = K256Signature::from_scalars(r, s).unwrap();
    let key = VerifyingKey::recover_from_prehash(&signing_hash, &k256_sig, RecoveryId::from_byte(0).unwrap()).unwrap();
    let public = public_key(&key);
    let sender = address(WalletType::Evm, &public, &ChainConfig::default()).unwrap();
    assert_eq!(sender.to_ascii_lowercase(), ALLOY_MAINNET_SENDER);
    let signer = Account {
        wallet_type: WalletType::Evm,
        public_key: &public,
        address: &sender,
    };

    let req = request(unsigned, 1);
    let prepared = evm::prepare(signer, &req).unwrap();
    assert_eq!(digest_of(&prepared.input), signing_hash);
    let signature = Signature::Secp256k1 { r, s, recovery_id: 0 };
    let signed = evm::assemble(signer, &req, &signature).unwrap();
    let raw = signed.signed_transaction.unwrap();
    // The transaction hash of a typed transaction is keccak256 of its EIP-2718 bytes; this one
    // is on mainnet.
    assert_eq!(hex::encode(Keccak256::digest(&raw)), ALLOY_MAINNET_TX_HASH);
    assert_eq!(&raw[..1], &[0x02]);

    let summary = prepared.summary;
    assert_eq!(summary.function_selector.as_deref(), Some("0xa22cb465")); // setApprovalForAll
    assert_eq!(summary.contract, summary.recipients.first().cloned());
    assert!(summary
        .contract
        .unwrap()
        .eq_ignore_ascii_case("0x6069a6c32cf691f5982febae4faf8a6f3ab2f0f6"));
    assert_eq!(summary.value.as_deref(), Some("0"));
    // 44386 gas × 20 gwei.
    assert_eq!(summary.fee.as_deref(), Some("887720000000000"));
}

// ---------------------------------------------------------------------------------------------
// Summaries
// ---------------------------------------------------------------------------------------------

/// A minimal RLP encoder for building test transactions independently of alloy.
mod rlp {
    pub fn bytes(b: &[u8]) -> Vec<u8> {
        if b.len() == 1 && b[0] < 0x80 {
            return b.to_vec();
        }
        let mut out = header(0x80, b.len());
        out.extend_from_slice(b);
        out
    }

    pub fn uint(v: u128) -> Vec<u8> {
        let be = v.to_be_bytes();
        let first = be.iter().position(|&x| x != 0).unwrap_or(be.len());
        bytes(&be[first..])
    }

    pub fn list(items: &[Vec<u8>]) -> Vec<u8> {
        let payload: Vec<u8> = items.concat();
        let mut out = header(0xc0, payload.len());
        out.extend_from_slice(&payload);
        out
    }

    fn header(base: u8, len: usize) -> Vec<u8> {
        if len < 56 {
            return vec![base + len as u8];
        }
        let be = len.to_be_bytes();
        let first = be.iter().position(|&x| x != 0).unwrap();
        let mut out = vec![base + 55 + (be.len() - first) as u8];
        out.extend_from_slice(&be[first..]);
        out
    }
}

/// USDC on Ethereum mainnet (EIP-55 as Circle and Etherscan publish it).
const USDC: &str = "0xA0b86991c6218b36c1d19D4a2e9Eb0cE3606eB48";

fn eip1559(chain_id: u64, to: &[u8], value: u128, data: &[u8], gas: u128, max_fee: u128) -> Vec<u8> {
    let mut out = vec![0x02];
    out.extend(rlp::list(&[
        rlp::uint(chain_id.into()),
        rlp::uint(7),
        rlp::uint(1_000_000_000),
        rlp::uint(max_fee),
        rlp::uint(gas),
        rlp::bytes(to),
        rlp::uint(value),
        rlp::bytes(data),
        rlp::list(&[]),
    ]));
    out
}

fn erc20_transfer_calldata() -> Vec<u8> {
    let mut data = unhex("a9059cbb"); // transfer(address,uint256)
    data.extend([0u8; 12]);
    data.extend(unhex(&ANVIL_1[2..]));
    let mut amount = [0u8; 32];
    amount[24..].copy_from_slice(&1_000_000u64.to_be_bytes()); // 1 USDC (6 decimals)
    data.extend(amount);
    data
}

#[test]
fn erc20_transfer_summary_names_the_token_contract_and_selector() {
    let wallet = Wallet::from_secret(ANVIL_0_SECRET);
    let usdc = unhex(&USDC[2..]);
    let data = erc20_transfer_calldata();
    assert_eq!(
        &hex::encode(Keccak256::digest(b"transfer(address,uint256)"))[..8],
        "a9059cbb"
    );
    let tx = eip1559(1, &usdc, 0, &data, 65_000, 30_000_000_000);
    let (_, _, signed, summary) = sign_through(&wallet, &request(tx, 1));
    assert_eq!(signed[0], 0x02);
    assert_eq!(summary.kind, "eip1559");
    assert_eq!(summary.recipients, vec![USDC.to_string()]);
    assert_eq!(summary.contract.as_deref(), Some(USDC));
    assert_eq!(summary.function_selector.as_deref(), Some("0xa9059cbb"));
    assert_eq!(summary.value.as_deref(), Some("0"));
    // 65000 gas × 30 gwei.
    assert_eq!(summary.fee.as_deref(), Some("1950000000000000"));
}

#[test]
fn short_calldata_names_the_contract_but_no_selector() {
    let wallet = Wallet::from_secret(ANVIL_0_SECRET);
    let usdc = unhex(&USDC[2..]);
    let tx = eip1559(1, &usdc, 5, &[0xa9, 0x05, 0x9c], 21_000, 1);
    let prepared = transaction::prepare(wallet.signer(), &request(tx, 1)).unwrap();
    assert_eq!(prepared.summary.contract.as_deref(), Some(USDC));
    assert_eq!(prepared.summary.function_selector, None);
    assert_eq!(prepared.summary.value.as_deref(), Some("5"));
    assert_eq!(prepared.summary.fee.as_deref(), Some("21000"));
}

#[test]
fn contract_creation_has_no_recipient_contract_or_selector() {
    let wallet = Wallet::from_secret(ANVIL_0_SECRET);
    // Legacy, to = empty string (create), init code 0x6080604052 (the usual solc prologue).
    let tx = rlp::list(&[
        rlp::uint(0),
        rlp::uint(1_000_000_000),
        rlp::uint(100_000),
        rlp::bytes(&[]),
        rlp::uint(0),
        rlp::bytes(&unhex("6080604052")),
    ]);
    let (_, _, signed, summary) = sign_through(&wallet, &request(tx, 10));
    assert!(signed[0] >= 0xc0);
    assert_eq!(summary.kind, "legacy");
    assert_eq!(summary.chain_id.as_deref(), Some("10"));
    assert!(summary.recipients.is_empty());
    assert_eq!(summary.contract, None);
    assert_eq!(summary.function_selector, None);
    assert_eq!(summary.fee.as_deref(), Some("100000000000000"));
}

#[test]
fn huge_values_and_fees_are_exact_decimals() {
    let wallet = Wallet::from_secret(ANVIL_0_SECRET);
    let tx = eip1559(1, &[0x11; 20], u128::MAX, &[], u64::MAX.into(), u128::MAX);
    let prepared = transaction::prepare(wallet.signer(), &request(tx, 1)).unwrap();
    assert_eq!(prepared.summary.value, Some(u128::MAX.to_string()));
    // (2^64 - 1)(2^128 - 1), beyond u128: 2^192 - 2^128 - 2^64 + 1.
    assert_eq!(
        prepared.summary.fee.as_deref(),
        Some("6277101735386680763495507056286727952620534092958556749825")
    );
}

// ---------------------------------------------------------------------------------------------
// Assembling
// ---------------------------------------------------------------------------------------------

#[test]
fn a_high_s_signature_is_assembled_as_its_low_s_twin() {
    let wallet = Wallet::from_secret(EIP155_SECRET);
    let req = request(unhex(EIP155_UNSIGNED_6), 1);
    let prepared = evm::prepare(wallet.signer(), &req).unwrap();
    let Signature::Secp256k1 { r, s, recovery_id } = wallet.sign(&prepared.input) else {
        unreachable!()
    };
    // n - s with the other recovery id is the same signature point-wise, high-s.
    let n = be32(&unhex(SECP256K1_N));
    let high_s = sub_be(&n, &s);
    let twin = Signature::Secp256k1 {
        r,
        s: high_s,
        recovery_id: recovery_id ^ 1,
    };
    let signed = evm::assemble(wallet.signer(), &req, &twin).unwrap();
    assert_eq!(hex::encode(signed.signed_transaction.unwrap()), EIP155_SIGNED);
}

/// The 32-byte big-endian array of `bytes`.
fn be32(bytes: &[u8]) -> [u8; 32] {
    bytes.try_into().unwrap()
}

/// a - b for 32-byte big-endian numbers with a >= b.
fn sub_be(a: &[u8; 32], b: &[u8; 32]) -> [u8; 32] {
    let mut out = [0u8; 32];
    let mut borrow = 0i16;
    for i in (0..32).rev() {
        let mut d = a[i] as i16 - b[i] as i16 - borrow;
        borrow = 0;
        if d < 0 {
            d += 256;
            borrow = 1;
        }
        out[i] = d as u8;
    }
    assert_eq!(borrow, 0);
    out
}

#[test]
fn assemble_refuses_signatures_that_do_not_make_this_wallet_the_sender() {
    let wallet = Wallet::from_secret(ANVIL_0_SECRET);
    let other = Wallet::from_secret(EIP155_SECRET);
    let req = request(unhex(OX_1559_UNSIGNED), 1);
    let prepared = evm::prepare(wallet.signer(), &req).unwrap();

    // Another key's signature.
    let foreign = other.sign(&prepared.input);
    assert!(matches!(
        evm::assemble(wallet.signer(), &req, &foreign),
        Err(ChainError::InvalidSignature(_))
    ));

    // The right signature with the other recovery id: valid ECDSA, wrong sender.
    let Signature::Secp256k1 { r, s, recovery_id } = wallet.sign(&prepared.input) else {
        unreachable!()
    };
    let flipped = Signature::Secp256k1 {
        r,
        s,
        recovery_id: recovery_id ^ 1,
    };
    assert!(matches!(
        evm::assemble(wallet.signer(), &req, &flipped),
        Err(ChainError::InvalidSignature(_))
    ));

    // A signature over another transaction.
    let other_req = request(unhex(OX_2930_UNSIGNED), 1);
    let other_sig = wallet.sign(&evm::prepare(wallet.signer(), &other_req).unwrap().input);
    assert!(matches!(
        evm::assemble(wallet.signer(), &req, &other_sig),
        Err(ChainError::InvalidSignature(_))
    ));

    // Recovery ids 2 and 3, zero scalars, an Ed25519 signature.
    for id in [2u8, 3] {
        assert!(matches!(
            evm::assemble(wallet.signer(), &req, &Signature::Secp256k1 { r, s, recovery_id: id }),
            Err(ChainError::InvalidSignature(_))
        ));
    }
    assert!(matches!(
        evm::assemble(
            wallet.signer(),
            &req,
            &Signature::Secp256k1 {
                r: [0; 32],
                s,
                recovery_id
            }
        ),
        Err(ChainError::InvalidSignature(_))
    ));
    assert_eq!(
        evm::assemble(wallet.signer(), &req, &Signature::Ed25519([1; 64])),
        Err(ChainError::KeyMismatch)
    );
}

// ---------------------------------------------------------------------------------------------
// Bad input
// ---------------------------------------------------------------------------------------------

fn prepare_err(bytes: Vec<u8>, chain_id: u64) -> ChainError {
    let wallet = Wallet::from_secret(ANVIL_0_SECRET);
    transaction::prepare(wallet.signer(), &request(bytes, chain_id)).unwrap_err()
}

fn assert_invalid(err: ChainError, needle: &str) {
    match &err {
        ChainError::InvalidTransaction(reason) => {
            assert!(reason.contains(needle), "{reason:?} should mention {needle:?}");
            assert!(reason.len() < 120, "reason too long: {reason:?}");
        }
        other => panic!("expected InvalidTransaction({needle}), got {other:?}"),
    }
}

#[test]
fn a_chain_id_other_than_the_requested_one_is_refused() {
    assert_eq!(
        prepare_err(unhex(OX_1559_UNSIGNED), 5),
        ChainError::ChainIdMismatch { requested: 5, found: 1 }
    );
    assert_eq!(
        prepare_err(unhex(OX_2930_UNSIGNED), 137),
        ChainError::ChainIdMismatch {
            requested: 137,
            found: 1
        }
    );
    assert_eq!(
        prepare_err(unhex(OX_LEGACY_UNSIGNED_9), 1),
        ChainError::ChainIdMismatch {
            requested: 1,
            found: 69
        }
    );
    // And assemble checks the same.
    let wallet = Wallet::from_secret(ANVIL_0_SECRET);
    let sig = Signature::Secp256k1 {
        r: [1; 32],
        s: [1; 32],
        recovery_id: 0,
    };
    assert_eq!(
        evm::assemble(wallet.signer(), &request(unhex(OX_1559_UNSIGNED), 5), &sig),
        Err(ChainError::ChainIdMismatch { requested: 5, found: 1 })
    );
}

#[test]
fn blob_and_set_code_transactions_are_unsupported() {
    // Well-formed enough bodies: what matters is that the type byte alone decides.
    let body = &unhex(OX_1559_UNSIGNED)[1..];
    for ty in [0x03u8, 0x04] {
        let mut tx = vec![ty];
        tx.extend_from_slice(body);
        assert!(
            matches!(prepare_err(tx, 1), ChainError::UnsupportedTransaction(_)),
            "type {ty:#04x}"
        );
        assert!(matches!(
            prepare_err(vec![ty], 1),
            ChainError::UnsupportedTransaction(_)
        ));
    }
    // Future types too; 0x00 and RLP strings are not transactions at all.
    assert!(matches!(
        prepare_err(vec![0x05, 0xc0], 1),
        ChainError::UnsupportedTransaction(_)
    ));
    assert!(matches!(
        prepare_err(vec![0x7f, 0xc0], 1),
        ChainError::UnsupportedTransaction(_)
    ));
    assert_invalid(prepare_err(vec![0x00, 0xc0], 1), "type");
    assert_invalid(prepare_err(vec![0x83, 1, 2, 3], 1), "RLP string");
}

#[test]
fn truncated_transactions_are_invalid_at_every_length() {
    for vector in [
        OX_1559_UNSIGNED,
        OX_2930_UNSIGNED,
        EIP155_UNSIGNED_6,
        EIP155_SIGNING_DATA,
    ] {
        let bytes = unhex(vector);
        for len in 0..bytes.len() {
            let err = prepare_err(bytes[..len].to_vec(), 1);
            assert!(
                matches!(err, ChainError::InvalidTransaction(_)),
                "{vector} cut to {len}: {err:?}"
            );
        }
    }
    assert_invalid(prepare_err(vec![], 1), "empty");
    assert_invalid(prepare_err(unhex(&OX_1559_UNSIGNED[..20]), 1), "truncated");
}

#[test]
fn trailing_bytes_are_invalid() {
    for (vector, chain) in [
        (OX_1559_UNSIGNED, 1),
        (OX_2930_UNSIGNED, 1),
        (EIP155_UNSIGNED_6, 1),
        (OX_LEGACY_UNSIGNED_9, 69),
    ] {
        for tail in [&[0x00][..], &[0x80], &[0xc0], &[0xde, 0xad, 0xbe, 0xef]] {
            let mut bytes = unhex(vector);
            bytes.extend_from_slice(tail);
            assert_invalid(prepare_err(bytes, chain), "trailing");
        }
    }
}

#[test]
fn signed_transactions_are_refused() {
    for (signed, chain) in [
        (EIP155_SIGNED, 1),
        (OX_1559_SIGNED, 1),
        (OX_2930_SIGNED, 1),
        (OX_LEGACY_SIGNED_69, 69),
    ] {
        assert_invalid(prepare_err(unhex(signed), chain), "signature");
    }
    // ox's serialization with a zero signature (yParity 0, r 0, s 0) is not an unsigned form.
    let zero_sig_1559 =
        "02f20182031184773594008477359400809470997970c51812dc3a010c7d01b50e0d17dc79c8880de0b6b3a764000080c0808080";
    assert_invalid(prepare_err(unhex(zero_sig_1559), 1), "signature");
}

#[test]
fn wrong_field_counts_and_non_canonical_rlp_are_invalid() {
    // Legacy with 7 and 8 fields.
    let six: Vec<Vec<u8>> = vec![
        rlp::uint(1),
        rlp::uint(1),
        rlp::uint(21_000),
        rlp::bytes(&[0x22; 20]),
        rlp::uint(1),
        rlp::bytes(&[]),
    ];
    for extra in 1..=2 {
        let mut fields = six.clone();
        fields.extend(std::iter::repeat_n(rlp::uint(1), extra));
        assert_invalid(prepare_err(rlp::list(&fields), 1), "fields");
    }
    // Legacy with 10 fields (EIP-155 form plus one).
    let mut ten = six.clone();
    ten.extend([rlp::uint(1), rlp::uint(0), rlp::uint(0), rlp::uint(0)]);
    assert_invalid(prepare_err(rlp::list(&ten), 1), "fields");
    // Five fields.
    assert_invalid(prepare_err(rlp::list(&six[..5]), 1), "fields");
    // A nonce with a leading zero byte (0x820001 instead of 0x01).
    let mut non_canonical = six.clone();
    non_canonical[0] = vec![0x82, 0x00, 0x01];
    assert_invalid(prepare_err(rlp::list(&non_canonical), 1), "leading zero");
    // A 19-byte recipient.
    let mut short_to = six.clone();
    short_to[3] = rlp::bytes(&[0x22; 19]);
    assert!(matches!(
        prepare_err(rlp::list(&short_to), 1),
        ChainError::InvalidTransaction(_)
    ));
    // A list where the typed payload should be a list... and a string instead.
    assert_invalid(prepare_err(vec![0x02, 0x83, 1, 2, 3], 1), "not an RLP list");
    // The EIP-155 form's chain id beyond 64 bits.
    let mut big_chain = six.clone();
    big_chain.extend([rlp::uint(u128::from(u64::MAX) + 1), rlp::uint(0), rlp::uint(0)]);
    assert_invalid(prepare_err(rlp::list(&big_chain), 1), "64 bits");
}

#[test]
fn garbage_never_panics_and_errors_stay_short() {
    let wallet = Wallet::from_secret(ANVIL_0_SECRET);
    // Every single-byte corruption of each vector, never a panic: either refused with a short
    // error, or decoded to another transaction than the vector's (one transaction has one
    // encoding, so changed bytes that sign what the original signs would be a malleable decoder).
    for vector in [OX_1559_UNSIGNED, OX_2930_UNSIGNED, EIP155_SIGNING_DATA] {
        let bytes = unhex(vector);
        let original = transaction::prepare(wallet.signer(), &request(bytes.clone(), 1))
            .unwrap()
            .input;
        for i in 0..bytes.len() {
            for flip in [0x01u8, 0x80, 0xff] {
                let mut corrupted = bytes.clone();
                corrupted[i] ^= flip;
                match transaction::prepare(wallet.signer(), &request(corrupted, 1)) {
                    Err(e) => assert!(e.to_string().len() < 160, "{e}"),
                    Ok(prepared) => assert_ne!(
                        prepared.input, original,
                        "byte {i} ^ {flip:#x} of a vector signs what the vector signs"
                    ),
                }
            }
        }
    }
    // Big garbage: the error does not carry the input.
    for garbage in [vec![0xff; 10_000], vec![0xc0; 10_000], vec![0x41; 10_000]] {
        let err = transaction::prepare(wallet.signer(), &request(garbage, 1)).unwrap_err();
        assert!(err.to_string().len() < 160, "{err}");
    }
}

#[test]
fn the_chain_id_is_required_and_other_chains_parameters_do_not_apply() {
    let wallet = Wallet::from_secret(ANVIL_0_SECRET);
    let mut req = request(unhex(OX_1559_UNSIGNED), 1);
    req.chain_id = None;
    assert!(matches!(
        transaction::prepare(wallet.signer(), &req),
        Err(ChainError::InvalidParameter(_))
    ));
    req.chain_id = Some(0);
    assert!(matches!(
        transaction::prepare(wallet.signer(), &req),
        Err(ChainError::InvalidParameter(_))
    ));
    let mut req = request(unhex(OX_1559_UNSIGNED), 1);
    req.network_passphrase = Some("Test SDF Network ; September 2015".into());
    assert!(matches!(
        transaction::prepare(wallet.signer(), &req),
        Err(ChainError::InvalidParameter(_))
    ));
    let mut req = request(unhex(OX_1559_UNSIGNED), 1);
    req.cosmos_sign_mode = Some(transaction::CosmosSignMode::Direct);
    assert!(matches!(
        transaction::prepare(wallet.signer(), &req),
        Err(ChainError::InvalidParameter(_))
    ));
}

#[test]
fn non_evm_signers_are_refused() {
    let ed = PublicKey::Ed25519([7; 32]);
    let req = request(unhex(OX_1559_UNSIGNED), 1);
    let solana = Account {
        wallet_type: WalletType::Solana,
        public_key: &ed,
        address: "11111111111111111111111111111111",
    };
    assert!(matches!(
        evm::prepare(solana, &req),
        Err(ChainError::UnsupportedOperation(_))
    ));
    let sig = Signature::Ed25519([1; 64]);
    assert!(matches!(
        evm::assemble(solana, &req, &sig),
        Err(ChainError::UnsupportedOperation(_))
    ));
    // A Cosmos (secp256k1) wallet is not an EVM wallet either.
    let wallet = Wallet::from_secret(ANVIL_0_SECRET);
    let cosmos = Account {
        wallet_type: WalletType::Cosmos,
        ..wallet.signer()
    };
    assert!(matches!(
        evm::prepare(cosmos, &req),
        Err(ChainError::UnsupportedOperation(_))
    ));
    // An EVM wallet type with an Ed25519 key is inconsistent.
    let mismatched = Account {
        wallet_type: WalletType::Evm,
        public_key: &ed,
        address: ANVIL_1,
    };
    assert_eq!(evm::prepare(mismatched, &req), Err(ChainError::KeyMismatch));
}

// ---------------------------------------------------------------------------------------------
// A message signature is not a transaction signature
// ---------------------------------------------------------------------------------------------

#[test]
fn a_transaction_or_its_signing_hash_signed_as_a_message_is_no_transaction_signature() {
    let wallet = Wallet::from_secret(ANVIL_0_SECRET);
    let req = request(hex::decode(OX_1559_UNSIGNED).unwrap(), 1);
    let tx_input = transaction::prepare(wallet.signer(), &req).unwrap().input;
    let SignInput::Digest(tx_hash) = tx_input else {
        panic!("EVM signs digests");
    };
    for message in [tx_hash.as_bytes().to_vec(), req.bytes.clone()] {
        let input = message_sign_input(WalletType::Evm, &wallet.address, &message).unwrap();
        assert_ne!(input, tx_input);
        // EIP-191, rebuilt here: keccak256("\x19Ethereum Signed Message:\n" ‖ len ‖ message).
        let mut prefixed = format!("\x19Ethereum Signed Message:\n{}", message.len()).into_bytes();
        prefixed.extend_from_slice(&message);
        let eip191: [u8; 32] = Keccak256::digest(&prefixed).into();
        assert_eq!(input, SignInput::Digest(dyad_chains::Digest::new(eip191)));

        let signature = wallet.sign(&input);
        let Signature::Secp256k1 { r, s, recovery_id } = signature else {
            panic!("EVM signs with ECDSA");
        };
        let sig = K256Signature::from_scalars(r, s).unwrap();
        let id = RecoveryId::from_byte(recovery_id).unwrap();
        // It recovers to the wallet over the message digest; over the transaction's signing
        // hash it verifies for no key, or recovers some other address.
        let signer = VerifyingKey::recover_from_prehash(&eip191, &sig, id).unwrap();
        assert_eq!(signer, *wallet.signing.verifying_key());
        use k256::ecdsa::signature::hazmat::PrehashVerifier;
        assert!(wallet
            .signing
            .verifying_key()
            .verify_prehash(tx_hash.as_bytes(), &sig)
            .is_err());
        if let Ok(other) = VerifyingKey::recover_from_prehash(tx_hash.as_bytes(), &sig, id) {
            assert_ne!(other, *wallet.signing.verifying_key());
        }
        assert!(matches!(
            transaction::assemble(wallet.signer(), &req, &signature),
            Err(ChainError::InvalidSignature(_))
        ));
    }
}

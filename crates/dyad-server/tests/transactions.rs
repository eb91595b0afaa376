//! Transactions, typed data and raw digests through a real server, and the refusals that must
//! happen before any ceremony: each a coded 400/422, only a `sign.denied` audit entry written.

mod support;

use alloy_consensus::transaction::RlpEcdsaDecodableTx;
use alloy_consensus::SignableTransaction;
use dyad_proto::{ErrorCode, WalletType};
use dyad_sdk::{Dyad, SdkError, TransactionRequest};
use dyad_test_support::fixtures::{
    eip155_signing_hash, eip155_unsigned, mail_typed_data, wallet_core_solana_transfer_message, MAIL_DIGEST,
};
use dyad_test_support::verify::{
    ed25519_public_key, ed25519_verify_strict, recover_evm_address as recover, sep53_hash, verify_message, VerifyError,
};
use dyad_test_support::{custom_id, email};
use serde_json::json;
use sha2::Digest;
use support::TestServer;

/// A transaction request with the chain's context (EVM chain id, Stellar network passphrase).
fn tx(bytes: Vec<u8>, chain_id: Option<u64>, network_passphrase: Option<&str>) -> TransactionRequest {
    TransactionRequest {
        bytes,
        chain_id,
        network_passphrase: network_passphrase.map(str::to_string),
        cosmos_sign_mode: None,
    }
}

fn code(e: &SdkError) -> Option<ErrorCode> {
    e.code()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn evm_transaction_typed_data_and_raw_digest_sign_and_recover() {
    let t = TestServer::start().await;
    let key = t.app_allowing_raw_signing("shop").await;
    let dyad = Dyad::new(&t.url(), &key);
    let w = dyad
        .create_pregen_wallet(WalletType::Evm, &custom_id("agent-7"))
        .await
        .unwrap();

    let unsigned = eip155_unsigned();
    let r = dyad
        .sign_transaction(w.id, &tx(unsigned.clone(), Some(1), None))
        .await
        .unwrap();
    // The EIP-155 signing hash of a 9-field legacy tx is keccak256 of those very bytes (the
    // spec's "signing hash").
    let hash = eip155_signing_hash();
    assert!(recover(&hash, &r.signature).eq_ignore_ascii_case(&w.address));
    // The signed transaction, decoded with alloy's own decoder, is the request's transaction
    // on chain 1, and its sender (ecrecover over its own signing hash) is the wallet.
    let signed = r.signed_transaction.expect("a signed raw transaction");
    let mut rest = signed.as_slice();
    let decoded = alloy_consensus::TxLegacy::rlp_decode_signed(&mut rest).expect("a signed legacy transaction");
    assert!(rest.is_empty(), "bytes after the signed transaction");
    assert_eq!(decoded.tx().chain_id, Some(1));
    assert_eq!(decoded.tx().encoded_for_signing(), unsigned);
    assert_eq!(decoded.signature_hash().0, hash);
    let sender = recover(&decoded.signature_hash().0, &decoded.signature().as_bytes());
    assert!(sender.eq_ignore_ascii_case(&w.address), "sender {sender}");
    assert_eq!(decoded.signature().as_bytes()[..], r.signature[..]);

    // EIP-712 "Mail" from the EIP: its digest is published.
    let mail = mail_typed_data();
    let digest = MAIL_DIGEST;
    let r = dyad.sign_typed_data(w.id, &mail).await.unwrap();
    assert!(recover(&digest, &r.signature).eq_ignore_ascii_case(&w.address));

    let raw = [0x5au8; 32];
    let r = dyad.sign_raw(w.id, raw).await.unwrap();
    assert!(recover(&raw, &r.signature).eq_ignore_ascii_case(&w.address));

    // The audit names each operation and what it decoded.
    let log = t.audit_log().await;
    let requested: Vec<_> = log.iter().filter(|r| r.action == "sign.requested").collect();
    assert_eq!(requested.len(), 3);
    assert_eq!(requested[0].detail["operation"], "transaction");
    assert_eq!(requested[0].detail["summary"]["kind"], "legacy");
    assert_eq!(
        requested[0].detail["summary"]["recipients"][0],
        "0x3535353535353535353535353535353535353535"
    );
    assert_eq!(requested[0].detail["summary"]["value"], "1000000000000000000");
    assert_eq!(requested[1].detail["operation"], "typed-data");
    assert_eq!(requested[1].detail["signs"], format!("0x{}", hex::encode(digest)));
    assert_eq!(requested[2].detail["operation"], "raw");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn undecodable_or_foreign_requests_are_refused_before_any_ceremony() {
    let t = TestServer::start().await;
    // Raw signing on, so a raw digest for a Solana wallet meets the chain check.
    let key = t.app_allowing_raw_signing("shop").await;
    let dyad = Dyad::new(&t.url(), &key);
    let who = email("bad-tx@example.com");
    let evm = dyad.create_pregen_wallet(WalletType::Evm, &who).await.unwrap();
    let sol = dyad.create_pregen_wallet(WalletType::Solana, &who).await.unwrap();
    let ceremonies_before = t.count("SELECT COUNT(*) FROM ceremonies WHERE kind = 'sign'").await;

    let unsigned = eip155_unsigned();
    let tx = |bytes: Vec<u8>, chain_id: Option<u64>| tx(bytes, chain_id, None);
    let cases: Vec<(TransactionRequest, ErrorCode, u16)> = vec![
        (tx(unsigned.clone(), Some(5)), ErrorCode::ChainIdMismatch, 400),
        (
            tx(unsigned[..unsigned.len() - 4].to_vec(), Some(1)),
            ErrorCode::InvalidTransaction,
            400,
        ),
        (tx(vec![0x03, 0xc0], Some(1)), ErrorCode::UnsupportedTransaction, 422),
        (tx(vec![0x04, 0xc0], Some(1)), ErrorCode::UnsupportedTransaction, 422),
        (
            tx(vec![0xde, 0xad, 0xbe, 0xef], Some(1)),
            ErrorCode::InvalidTransaction,
            400,
        ),
        (tx(unsigned.clone(), None), ErrorCode::InvalidRequest, 400),
    ];
    let n = cases.len();
    for (req, want, status) in cases {
        let err = dyad.sign_transaction(evm.id, &req).await.unwrap_err();
        assert_eq!(code(&err), Some(want), "{err}");
        assert!(matches!(err, SdkError::Api { status: s, .. } if s == status), "{err}");
    }
    let err = dyad.sign_typed_data(sol.id, &json!({"types": {}})).await.unwrap_err();
    assert_eq!(code(&err), Some(ErrorCode::UnsupportedOperation));
    let err = dyad.sign_raw(sol.id, [1; 32]).await.unwrap_err();
    assert_eq!(code(&err), Some(ErrorCode::UnsupportedOperation));
    let err = dyad.sign_typed_data(evm.id, &json!({"types": 5})).await.unwrap_err();
    assert_eq!(code(&err), Some(ErrorCode::InvalidTypedData));
    let err = dyad
        .sign_transaction(sol.id, &tx(vec![1, 2, 3], None))
        .await
        .unwrap_err();
    assert_eq!(code(&err), Some(ErrorCode::InvalidTransaction));

    // A body that does not even decode, for a real wallet, is refused and audited the same way.
    let r = reqwest::Client::new()
        .post(format!("{}/v1/wallets/{}/sign-transaction", t.url(), evm.id))
        .header("x-api-key", &key)
        .json(&json!({ "transaction": "***", "chainId": 1 }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);

    // Nothing was started; each refusal is in the audit log.
    assert_eq!(
        t.count("SELECT COUNT(*) FROM ceremonies WHERE kind = 'sign'").await,
        ceremonies_before
    );
    assert_eq!(
        t.count("SELECT COUNT(*) FROM audit_log WHERE action = 'sign.requested'")
            .await,
        0
    );
    assert_eq!(
        t.count("SELECT COUNT(*) FROM audit_log WHERE action = 'sign.denied'")
            .await,
        n as i64 + 5
    );
}

fn stellar_envelope(source: [u8; 32]) -> Vec<u8> {
    use stellar_xdr::{
        Asset, Limits, Memo, MuxedAccount, Operation, OperationBody, PaymentOp, Preconditions, SequenceNumber,
        Transaction, TransactionEnvelope, TransactionExt, TransactionV1Envelope, Uint256, WriteXdr,
    };
    let op = Operation {
        source_account: None,
        body: OperationBody::Payment(PaymentOp {
            destination: MuxedAccount::Ed25519(Uint256([9; 32])),
            asset: Asset::Native,
            amount: 10_000_000,
        }),
    };
    let tx = Transaction {
        source_account: MuxedAccount::Ed25519(Uint256(source)),
        fee: 100,
        seq_num: SequenceNumber(1),
        cond: Preconditions::None,
        memo: Memo::None,
        operations: vec![op].try_into().unwrap(),
        ext: TransactionExt::V0,
    };
    TransactionEnvelope::Tx(TransactionV1Envelope {
        tx,
        signatures: vec![].try_into().unwrap(),
    })
    .to_xdr(Limits::none())
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn solana_and_stellar_requests_that_do_not_need_the_wallet_are_refused() {
    let t = TestServer::start().await;
    let key = t.app("shop").await;
    let dyad = Dyad::new(&t.url(), &key);
    let who = email("ed@example.com");
    let sol = dyad.create_pregen_wallet(WalletType::Solana, &who).await.unwrap();
    let xlm = dyad.create_pregen_wallet(WalletType::Stellar, &who).await.unwrap();

    // Trust Wallet wallet-core's published 42-lamport transfer: signed by someone else.
    let message = wallet_core_solana_transfer_message();
    let sol_tx = |bytes: Vec<u8>| tx(bytes, None, None);
    let err = dyad
        .sign_transaction(sol.id, &sol_tx(message.clone()))
        .await
        .unwrap_err();
    assert_eq!(code(&err), Some(ErrorCode::NotASigner), "{err}");
    let err = dyad
        .sign_transaction(sol.id, &sol_tx(message[..message.len() - 5].to_vec()))
        .await
        .unwrap_err();
    assert_eq!(code(&err), Some(ErrorCode::InvalidTransaction), "{err}");

    let xlm_tx = |bytes: Vec<u8>| tx(bytes, None, Some("Test SDF Network ; September 2015"));
    let err = dyad
        .sign_transaction(xlm.id, &xlm_tx(stellar_envelope([3; 32])))
        .await
        .unwrap_err();
    assert_eq!(code(&err), Some(ErrorCode::NotASigner), "{err}");
    let own = ed25519_public_key(&xlm);
    let good = stellar_envelope(own);
    let err = dyad
        .sign_transaction(xlm.id, &xlm_tx(good[..good.len() - 3].to_vec()))
        .await
        .unwrap_err();
    assert_eq!(code(&err), Some(ErrorCode::InvalidTransaction), "{err}");

    // The same envelope with the wallet as source signs; the signature verifies over the
    // network-bound hash, computed here independently.
    let r = dyad.sign_transaction(xlm.id, &xlm_tx(good.clone())).await.unwrap();
    let network_id = sha2::Sha256::digest(b"Test SDF Network ; September 2015");
    let tx_xdr = &good[4..good.len() - 4]; // envelope = type ‖ tx ‖ empty signature list
    let payload = [&network_id[..], &[0, 0, 0, 2], tx_xdr].concat();
    let hash = sha2::Sha256::digest(&payload);
    ed25519_verify_strict(&own, &hash, &r.signature).unwrap();
    // The signed envelope, decoded with stellar-xdr: the same transaction, and one signature,
    // hinted with the wallet's key, that verifies over that transaction's network-bound hash.
    use stellar_xdr::{Limits, ReadXdr, TransactionEnvelope, WriteXdr};
    let signed = r.signed_transaction.unwrap();
    let TransactionEnvelope::Tx(envelope) = TransactionEnvelope::from_xdr(&signed, Limits::none()).unwrap() else {
        panic!("not a v1 envelope");
    };
    let signed_tx = envelope.tx.to_xdr(Limits::none()).unwrap();
    assert_eq!(signed_tx, tx_xdr);
    assert_eq!(envelope.signatures.len(), 1);
    let decorated = &envelope.signatures[0];
    assert_eq!(decorated.hint.0, own[28..]);
    assert_eq!(decorated.signature.as_slice(), &r.signature[..]);
    let payload = [&network_id[..], &[0, 0, 0, 2], &signed_tx].concat();
    ed25519_verify_strict(&own, &sha2::Sha256::digest(&payload), decorated.signature.as_slice()).unwrap();

    let log = t.audit_log().await;
    assert_eq!(log.iter().filter(|r| r.action == "sign.denied").count(), 4);
    let req = log.iter().find(|r| r.action == "sign.requested").unwrap();
    assert_eq!(req.detail["summary"]["kind"], "stellar-tx");
    assert_eq!(req.detail["summary"]["value"], "10000000");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn solana_sign_message_refuses_transactions_and_signs_off_chain_messages() {
    use solana_message::{Address, Message};
    let t = TestServer::start().await;
    let key = t.app("shop").await;
    let dyad = Dyad::new(&t.url(), &key);
    let sol = dyad
        .create_pregen_wallet(WalletType::Solana, &email("msg@example.com"))
        .await
        .unwrap();
    let own = ed25519_public_key(&sol);
    let from = Address::new_from_array(own);
    let transfer = solana_system_interface::instruction::transfer(&from, &Address::new_from_array([9; 32]), 5_000);
    let message = Message::new_with_blockhash(&[transfer], Some(&from), &solana_hash::Hash::new_from_array([4; 32]));
    let message_bytes = message.serialize();
    // The wire form web3.js sends: one empty signature slot, then the message.
    let wire = [&[1u8][..], &[0u8; 64], &message_bytes].concat();

    for bytes in [message_bytes.clone(), wire] {
        let ceremonies = t.count("SELECT COUNT(*) FROM ceremonies WHERE kind = 'sign'").await;
        let denied = t.audited("sign.denied").await;
        let err = dyad.sign_message(sol.id, &bytes).await.unwrap_err();
        assert_eq!(code(&err), Some(ErrorCode::MessageIsTransaction), "{err}");
        assert!(matches!(err, SdkError::Api { status: 400, .. }), "{err}");
        assert_eq!(t.audited("sign.denied").await, denied + 1);
        assert_eq!(
            t.count("SELECT COUNT(*) FROM ceremonies WHERE kind = 'sign'").await,
            ceremonies
        );
    }
    assert_eq!(t.audited("sign.requested").await, 0);
    for entry in t.audit_log().await.iter().filter(|r| r.action == "sign.denied") {
        assert_eq!(entry.detail["reason"], "MESSAGE_IS_TRANSACTION");
        assert_eq!(entry.wallet_id, Some(sol.id));
    }

    // The same words as an off-chain message (header, version 0, application domain, format,
    // one signer, length, text) sign, over exactly those bytes.
    let text = b"Sign in to example.com";
    let offchain = [
        &b"\xffsolana offchain"[..],
        &[0],
        &[7; 32],
        &[0, 1],
        &own,
        &(text.len() as u16).to_le_bytes(),
        text,
    ]
    .concat();
    let r = dyad.sign_message(sol.id, &offchain).await.unwrap();
    verify_message(&sol, &offchain, &r.signature).unwrap();
    ed25519_verify_strict(&own, &offchain, &r.signature).unwrap();
    assert!(matches!(
        ed25519_verify_strict(&own, &message_bytes, &r.signature),
        Err(VerifyError::Invalid(_))
    ));
    assert_eq!(t.audited("sign.requested").await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stellar_sign_message_signs_the_sep53_hash() {
    let t = TestServer::start().await;
    let key = t.app("shop").await;
    let dyad = Dyad::new(&t.url(), &key);
    let xlm = dyad
        .create_pregen_wallet(WalletType::Stellar, &email("sep53@example.com"))
        .await
        .unwrap();
    let message = "Hello, World!".as_bytes();
    let r = dyad.sign_message(xlm.id, message).await.unwrap();
    // The independent verifier rebuilds sha256("Stellar Signed Message:\n" ‖ message).
    verify_message(&xlm, message, &r.signature).unwrap();
    assert!(matches!(
        verify_message(&xlm, b"Hello, World?", &r.signature),
        Err(VerifyError::Invalid(_))
    ));
    let own = ed25519_public_key(&xlm);
    // Over the hash, not over the bare message.
    ed25519_verify_strict(&own, &sep53_hash(message), &r.signature).unwrap();
    assert!(matches!(
        ed25519_verify_strict(&own, message, &r.signature),
        Err(VerifyError::Invalid(_))
    ));
    let log = t.audit_log().await;
    let requested = log.iter().find(|r| r.action == "sign.requested").unwrap();
    assert_eq!(requested.detail["operation"], "message");
    let signs = sha2::Sha256::digest(sep53_hash(message));
    assert_eq!(requested.detail["signs"], format!("sha256:0x{}", hex::encode(signs)));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_request_over_a_decoding_limit_is_refused_as_too_complex() {
    let t = TestServer::start().await;
    let key = t.app("shop").await;
    let dyad = Dyad::new(&t.url(), &key);
    let evm = dyad
        .create_pregen_wallet(WalletType::Evm, &email("limits@example.com"))
        .await
        .unwrap();
    // One type definition more than dyad_chains accepts.
    let mut types = serde_json::Map::new();
    types.insert("Root".into(), json!([{ "name": "x", "type": "uint8" }]));
    for i in 0..dyad_chains::evm::typed_data::MAX_TYPES {
        types.insert(format!("Unused{i}"), json!([{ "name": "y", "type": "uint8" }]));
    }
    let typed = json!({
        "types": types,
        "primaryType": "Root",
        "domain": { "name": "limits" },
        "message": { "x": 1 }
    });
    let ceremonies = t.count("SELECT COUNT(*) FROM ceremonies WHERE kind = 'sign'").await;
    let err = dyad.sign_typed_data(evm.id, &typed).await.unwrap_err();
    assert_eq!(code(&err), Some(ErrorCode::RequestTooComplex), "{err}");
    assert!(matches!(err, SdkError::Api { status: 400, .. }), "{err}");
    assert!(err.to_string().contains("MAX_TYPES"), "{err}");
    assert_eq!(
        t.count("SELECT COUNT(*) FROM ceremonies WHERE kind = 'sign'").await,
        ceremonies
    );
    let log = t.audit_log().await;
    let denied: Vec<_> = log.iter().filter(|r| r.action == "sign.denied").collect();
    assert_eq!(denied.len(), 1);
    assert_eq!(denied[0].detail["reason"], "REQUEST_TOO_COMPLEX");
    assert_eq!(t.audited("sign.requested").await, 0);
}

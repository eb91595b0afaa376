//! `dyad_sdk::solana::DyadSolanaSigner` through the Solana crates: a transfer message signed and
//! checked with ed25519-dalek's `verify_strict`, `Transaction::try_sign` / `try_partial_sign`,
//! `VersionedTransaction::try_new`, and calls from inside tokio runtimes of both flavours.

mod support;

use std::sync::Arc;

use dyad_proto::WalletType;
use dyad_sdk::solana::DyadSolanaSigner;
use dyad_sdk::Dyad;
use dyad_test_support::custom_id;
use dyad_test_support::verify::ed25519_verify_strict;
use solana_hash::Hash;
use solana_message::{v0, Address, Message, VersionedMessage};
use solana_signer::Signer;
use solana_system_interface::instruction::transfer;
use solana_transaction::versioned::VersionedTransaction;
use solana_transaction::Transaction;
use support::TestServer;

fn verify_strict(signer: &Address, message: &[u8], signature: &[u8]) {
    ed25519_verify_strict(&signer.to_bytes(), message, signature)
        .expect("the signature verifies (strict) under the wallet's key");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn solana_signer_signs_transfers_for_the_solana_crates() {
    let t = TestServer::start().await;
    let key = t.app("solana").await;
    let dyad = Dyad::new(&t.url(), &key);
    let payer_wallet = dyad
        .create_pregen_wallet(WalletType::Solana, &custom_id("sol-1"))
        .await
        .unwrap();
    let cosigner_wallet = dyad
        .create_pregen_wallet(WalletType::Solana, &custom_id("sol-2"))
        .await
        .unwrap();
    let evm = dyad
        .create_pregen_wallet(WalletType::Evm, &custom_id("sol-1"))
        .await
        .unwrap();

    // Only SOLANA wallets, and only loaded ones.
    assert!(matches!(
        DyadSolanaSigner::new(&dyad, evm.id),
        Err(dyad_sdk::SdkError::InvalidInput(_))
    ));
    assert!(matches!(
        DyadSolanaSigner::new(&Dyad::new(&t.url(), &key), payer_wallet.id),
        Err(dyad_sdk::SdkError::WalletNotLoaded(_))
    ));

    let payer_signer = Arc::new(DyadSolanaSigner::new(&dyad, payer_wallet.id).unwrap());
    let cosigner = Arc::new(DyadSolanaSigner::new(&dyad, cosigner_wallet.id).unwrap());
    let payer = payer_signer.try_pubkey().unwrap();
    assert_eq!(payer.to_string(), payer_wallet.address);
    assert_eq!(payer_signer.wallet_id(), payer_wallet.id);
    assert!(!payer_signer.is_interactive());
    let to = Address::new_from_array([7; 32]);
    let blockhash = Hash::new_from_array([42; 32]);

    // A transfer message, signed straight from async code (this thread blocks; the server runs
    // on the runtime's other worker) and verified independently.
    let message = Message::new_with_blockhash(&[transfer(&payer, &to, 5_000)], Some(&payer), &blockhash);
    let bytes = message.serialize();
    let signature = payer_signer.try_sign_message(&bytes).unwrap();
    verify_strict(&payer, &bytes, signature.as_ref());

    // A wire transaction (signature slots first) is not a message: refused before any ceremony.
    let wire = [&[1u8][..], &[0u8; 64][..], &bytes[..]].concat();
    let err = payer_signer.try_sign_message(&wire).unwrap_err();
    assert!(matches!(err, solana_signer::SignerError::InvalidInput(_)), "{err:?}");

    // Not a transaction message: refused, not signed.
    let err = payer_signer.try_sign_message(b"not a solana message").unwrap_err();
    assert!(matches!(err, solana_signer::SignerError::InvalidInput(_)), "{err:?}");

    // From inside a current-thread runtime's `block_on` on another thread: no panic, no deadlock.
    let from_current_thread = {
        let signer = payer_signer.clone();
        let bytes = bytes.clone();
        std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async move { signer.try_sign_message(&bytes) })
        })
    };
    let again = tokio::task::spawn_blocking(move || from_current_thread.join().unwrap())
        .await
        .unwrap()
        .unwrap();
    verify_strict(&payer, &bytes, again.as_ref());

    // The Solana crates' own signing calls, from a blocking task.
    let (signer, co, hash) = (payer_signer.clone(), cosigner.clone(), blockhash.clone());
    let (single, partial, versioned) = tokio::task::spawn_blocking(move || {
        let mut single = Transaction::new_with_payer(&[transfer(&payer, &to, 5_000)], Some(&payer));
        single.try_sign(&[signer.as_ref()], hash.clone()).unwrap();

        // Two signers, one at a time: the payer and the cosigner, whose lamports move.
        let from = co.try_pubkey().unwrap();
        let mut partial = Transaction::new_with_payer(&[transfer(&from, &to, 7_000)], Some(&payer));
        partial.try_partial_sign(&[signer.as_ref()], hash.clone()).unwrap();
        assert!(!partial.is_signed(), "only the payer has signed so far");
        partial.try_partial_sign(&[co.as_ref()], hash.clone()).unwrap();

        let v0 = v0::Message::try_compile(&payer, &[transfer(&payer, &to, 9_000)], &[], hash.clone()).unwrap();
        let versioned = VersionedTransaction::try_new(VersionedMessage::V0(v0), &[signer.as_ref()]).unwrap();
        (single, partial, versioned)
    })
    .await
    .unwrap();

    assert!(single.is_signed());
    verify_strict(&payer, &single.message_data(), single.signatures[0].as_ref());

    assert!(partial.is_signed());
    let from = cosigner.try_pubkey().unwrap();
    let data = partial.message_data();
    for (i, key) in partial.message.account_keys.iter().take(2).enumerate() {
        assert!(*key == payer || *key == from);
        verify_strict(key, &data, partial.signatures[i].as_ref());
    }

    let data = versioned.message.serialize();
    assert_eq!(data[0], 0x80, "a v0 message");
    verify_strict(&payer, &data, versioned.signatures[0].as_ref());

    // A signer that is not among the message's signers is refused by the Solana crates.
    let mut foreign = Transaction::new_with_payer(&[transfer(&to, &payer, 1)], Some(&to));
    let signer = payer_signer.clone();
    let refused = tokio::task::spawn_blocking(move || foreign.try_sign(&[signer.as_ref()], blockhash))
        .await
        .unwrap();
    assert!(
        matches!(refused, Err(solana_signer::SignerError::KeypairPubkeyMismatch)),
        "{refused:?}"
    );
}

// Stellar: payment envelopes built offline with @stellar/stellar-sdk (TransactionBuilder on
// testnet, an Account with a made-up sequence number), signed by a pregenerated Dyad wallet
// and checked with the SDK's own Keypair.verify and envelope parsing; message signatures
// checked with the SDK's SEP-53 Keypair.verifyMessage.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import {
  Account,
  Asset,
  BASE_FEE,
  FeeBumpTransaction,
  Keypair,
  Memo,
  Networks,
  Operation,
  StrKey,
  TransactionBuilder,
} from '@stellar/stellar-sdk';

import { fromHex, startDyad } from './lib/dyad.mjs';
import { stopAll } from './lib/procs.mjs';

let dyad;
let wallet;
let keypair; // public key only

before(async () => {
  dyad = await startDyad();
  wallet = await dyad.pregen('STELLAR', 'stellar-interop@example.com');
  keypair = Keypair.fromPublicKey(wallet.address);
});

after(async () => {
  await dyad?.close();
  await stopAll();
});

function payment({ source = wallet.address, destination, amount, passphrase = Networks.TESTNET, memoText }) {
  const builder = new TransactionBuilder(new Account(source, '1234567890'), {
    fee: BASE_FEE,
    networkPassphrase: passphrase,
  })
    .addOperation(Operation.payment({ destination, asset: Asset.native(), amount }))
    .setTimeout(300);
  if (memoText) builder.addMemo(Memo.text(memoText));
  return builder.build();
}

describe('Stellar with @stellar/stellar-sdk', () => {
  test('the wallet address is the StrKey of its Ed25519 public key', () => {
    assert.equal(StrKey.encodeEd25519PublicKey(Buffer.from(fromHex(wallet.publicKey))), wallet.address);
  });

  test('a testnet payment: Keypair.verify accepts the signature and the envelope carries it', async () => {
    const destination = Keypair.random().publicKey();
    const tx = payment({ destination, amount: '12.5', memoText: 'interop <&>' });
    const out = await dyad.signTransaction(wallet.id, tx.toEnvelope().toXDR('base64'), {
      networkPassphrase: Networks.TESTNET,
    });
    assert.equal(out.walletId, wallet.id);
    assert.match(out.signature, /^0x[0-9a-f]{128}$/);
    const signature = Buffer.from(fromHex(out.signature));

    // The SDK's check: Ed25519 over the transaction hash for the network.
    assert.equal(keypair.verify(tx.hash(), signature), true);
    // Bound to the network: the same transaction's public-network hash does not verify.
    const onPublic = TransactionBuilder.fromXDR(tx.toXDR(), Networks.PUBLIC);
    assert.notDeepEqual(onPublic.hash(), tx.hash());
    assert.equal(keypair.verify(onPublic.hash(), signature), false);

    // The returned envelope parses, is the same transaction, and carries one decorated
    // signature with the wallet's hint.
    const signed = TransactionBuilder.fromXDR(out.signedTransaction, Networks.TESTNET);
    assert.deepEqual(signed.hash(), tx.hash());
    assert.equal(signed.source, wallet.address);
    assert.equal(signed.sequence, '1234567891');
    assert.equal(signed.operations.length, 1);
    assert.equal(signed.operations[0].type, 'payment');
    assert.equal(signed.operations[0].destination, destination);
    assert.equal(signed.operations[0].amount, '12.5000000');
    assert.equal(signed.memo.value.toString(), 'interop <&>');
    assert.equal(signed.signatures.length, 1);
    assert.deepEqual(signed.signatures[0].hint(), keypair.signatureHint());
    assert.deepEqual(signed.signatures[0].signature(), signature);
    assert.equal(keypair.verify(signed.hash(), signed.signatures[0].signature()), true);
  });

  test('a fee-bump envelope is signed by the wallet as fee source and keeps the inner signature', async () => {
    const inner = Keypair.random();
    const innerTx = payment({ source: inner.publicKey(), destination: wallet.address, amount: '1' });
    innerTx.sign(inner);
    const bump = TransactionBuilder.buildFeeBumpTransaction(wallet.address, '200', innerTx, Networks.TESTNET);
    assert.ok(bump instanceof FeeBumpTransaction);
    const out = await dyad.signTransaction(wallet.id, bump.toEnvelope().toXDR('base64'), {
      networkPassphrase: Networks.TESTNET,
    });
    const signature = Buffer.from(fromHex(out.signature));
    assert.equal(keypair.verify(bump.hash(), signature), true);

    const signed = TransactionBuilder.fromXDR(out.signedTransaction, Networks.TESTNET);
    assert.ok(signed instanceof FeeBumpTransaction);
    assert.deepEqual(signed.hash(), bump.hash());
    assert.equal(signed.feeSource, wallet.address);
    assert.equal(signed.signatures.length, 1);
    assert.deepEqual(signed.signatures[0].hint(), keypair.signatureHint());
    assert.deepEqual(signed.signatures[0].signature(), signature);
    // The inner transaction's own signature is untouched.
    assert.equal(signed.innerTransaction.signatures.length, 1);
    assert.equal(inner.verify(signed.innerTransaction.hash(), signed.innerTransaction.signatures[0].signature()), true);
  });

  test('sign message is SEP-53: Keypair.verifyMessage accepts the signature', async () => {
    const message = 'Sign in to interop.example\nNonce: 8d1f ✓';
    const out = await dyad.signMessage(wallet.id, message);
    const signature = Buffer.from(fromHex(out.signature));
    assert.equal(keypair.verifyMessage(message, signature), true);
    assert.equal(keypair.verifyMessage(Buffer.from(message, 'utf8'), signature), true);
    // The check can fail: another message, and the bare bytes (what Dyad used to sign).
    assert.equal(keypair.verifyMessage(`${message}.`, signature), false);
    assert.equal(keypair.verify(Buffer.from(message, 'utf8'), signature), false);
  });

  test('a transaction hash given to sign message does not yield its signature', async () => {
    const tx = payment({ destination: Keypair.random().publicKey(), amount: '3' });
    const out = await dyad.signMessageBase64(wallet.id, tx.hash().toString('base64'));
    const signature = Buffer.from(fromHex(out.signature));
    assert.equal(keypair.verifyMessage(tx.hash(), signature), true);
    assert.equal(keypair.verify(tx.hash(), signature), false);
  });

  test('a transaction the wallet does not have to sign is refused before signing', async () => {
    const tx = payment({ source: Keypair.random().publicKey(), destination: Keypair.random().publicKey(), amount: '1' });
    await assert.rejects(
      dyad.signTransaction(wallet.id, tx.toEnvelope().toXDR('base64'), { networkPassphrase: Networks.TESTNET }),
      (e) => {
        assert.match(e.stderr, /NOT_A_SIGNER|not a signer/i);
        return true;
      },
    );
  });
});

// Solana: transfers built with @solana/kit (the library LiteSVM's JS API uses), signed by a
// pregenerated Dyad wallet, executed by LiteSVM with signature verification on; a tampered
// signature is refused. `sign message` refuses a transfer's message or wire form, and signs a
// kit off-chain message envelope that kit then verifies.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';

import { getTransferSolInstruction } from '@solana-program/system';
import {
  appendTransactionMessageInstruction,
  compileOffchainMessageV0Envelope,
  compileTransaction,
  createNoopSigner,
  createTransactionMessage,
  generateKeyPairSigner,
  getAddressEncoder,
  getPublicKeyFromAddress,
  getTransactionDecoder,
  getTransactionEncoder,
  lamports,
  offchainMessageApplicationDomain,
  offchainMessageContentRestrictedAsciiOf1232BytesMax,
  pipe,
  setTransactionMessageFeePayer,
  verifyOffchainMessageEnvelope,
  verifySignature,
} from '@solana/kit';
import { FailedTransactionMetadata, LiteSVM } from 'litesvm';

import { fromBase64, fromHex, startDyad, toBase64 } from './lib/dyad.mjs';
import { stopAll } from './lib/procs.mjs';

// LiteSVM's TransactionErrorFieldless.SignatureFailure (a `const enum`, so not exported at run
// time; see litesvm/dist/internal.d.ts).
const SIGNATURE_FAILURE = 11;

let dyad;
let wallet;
let svm;

before(async () => {
  dyad = await startDyad();
  wallet = await dyad.pregen('SOLANA', 'solana-interop@example.com');
  svm = new LiteSVM();
  const airdrop = svm.airdrop(wallet.address, lamports(5_000_000_000n));
  assert.ok(airdrop && !(airdrop instanceof FailedTransactionMetadata), `airdrop failed: ${airdrop}`);
});

after(async () => {
  await dyad?.close();
  await stopAll();
});

/** An unsigned kit transaction: `amount` lamports from the wallet to `to`. */
function transfer(to, amount, version) {
  const payer = createNoopSigner(wallet.address);
  const message = pipe(
    createTransactionMessage({ version }),
    (m) => setTransactionMessageFeePayer(wallet.address, m),
    (m) => svm.setTransactionMessageLifetimeUsingLatestBlockhash(m),
    (m) => appendTransactionMessageInstruction(getTransferSolInstruction({ source: payer, destination: to, amount: lamports(amount) }), m),
  );
  return compileTransaction(message);
}

/** Signs the wire form (empty signature slot) or the bare message with Dyad; returns the signed kit transaction. */
async function sign(tx, form) {
  let bytes;
  if (form === 'wire') {
    bytes = getTransactionEncoder().encode(tx);
    // One signature slot, all zero: the wallet's, still empty.
    assert.equal(bytes[0], 1);
    assert.ok(bytes.slice(1, 65).every((b) => b === 0));
  } else {
    bytes = tx.messageBytes;
  }
  const out = await dyad.signTransaction(wallet.id, toBase64(bytes));
  assert.equal(out.walletId, wallet.id);
  assert.match(out.signature, /^0x[0-9a-f]{128}$/);
  const signed = getTransactionDecoder().decode(fromBase64(out.signedTransaction));
  // The same message, now with the wallet's signature in its slot.
  assert.deepEqual(new Uint8Array(signed.messageBytes), new Uint8Array(tx.messageBytes));
  assert.deepEqual(Object.keys(signed.signatures), [wallet.address]);
  assert.deepEqual(new Uint8Array(signed.signatures[wallet.address]), fromHex(out.signature));
  // Ed25519 over the message bytes, checked with kit (WebCrypto).
  const key = await getPublicKeyFromAddress(wallet.address);
  assert.equal(await verifySignature(key, signed.signatures[wallet.address], signed.messageBytes), true);
  return signed;
}

function assertSucceeded(result) {
  assert.ok(!(result instanceof FailedTransactionMetadata), `LiteSVM refused the transaction: ${result}`);
}

describe('Solana with LiteSVM and @solana/kit', () => {
  test('the wallet address is the base58 of its Ed25519 public key', () => {
    assert.deepEqual(new Uint8Array(getAddressEncoder().encode(wallet.address)), fromHex(wallet.publicKey));
  });

  for (const [version, form] of [
    [0, 'wire'],
    ['legacy', 'message'],
  ]) {
    test(`LiteSVM executes a ${version === 0 ? 'v0' : 'legacy'} SOL transfer (${form === 'wire' ? 'wire transaction with an empty slot' : 'bare message'})`, async () => {
      const to = (await generateKeyPairSigner()).address;
      const amount = 1_000_000_000n + BigInt(version === 0 ? 1 : 2);
      const senderBefore = svm.getBalance(wallet.address);
      const signed = await sign(transfer(to, amount, version), form);
      const result = svm.sendTransaction(signed);
      assertSucceeded(result);
      assert.deepEqual(new Uint8Array(result.signature()), new Uint8Array(signed.signatures[wallet.address]));
      assert.equal(svm.getBalance(to), amount);
      const paid = senderBefore - svm.getBalance(wallet.address);
      // The transfer plus the fee: 5000 lamports for the one signature.
      assert.equal(paid, amount + 5000n);
    });
  }

  test('LiteSVM refuses the transfer when a byte of the signature is flipped', async () => {
    const to = (await generateKeyPairSigner()).address;
    const amount = 123_456_789n;
    const signed = await sign(transfer(to, amount, 0), 'wire');
    const senderBefore = svm.getBalance(wallet.address);

    const wire = new Uint8Array(getTransactionEncoder().encode(signed));
    const tamperedWire = wire.slice();
    tamperedWire[1 + 17] ^= 0x01; // inside the first (the wallet's) signature
    const tampered = getTransactionDecoder().decode(tamperedWire);
    const refused = svm.sendTransaction(tampered);
    assert.ok(refused instanceof FailedTransactionMetadata, 'a tampered signature must be refused');
    assert.equal(refused.err(), SIGNATURE_FAILURE, `expected SignatureFailure, got ${refused}`);
    assert.equal(svm.getBalance(to), null);
    assert.equal(svm.getBalance(wallet.address), senderBefore);

    // The untampered transaction still goes through, so the refusal was the flipped byte.
    assertSucceeded(svm.sendTransaction(signed));
    assert.equal(svm.getBalance(to), amount);
  });

  test('sign message refuses a transfer message and its wire form, and nothing moves', async () => {
    const to = (await generateKeyPairSigner()).address;
    for (const version of ['legacy', 0]) {
      const tx = transfer(to, 777n, version);
      for (const bytes of [tx.messageBytes, getTransactionEncoder().encode(tx)]) {
        await assert.rejects(dyad.signMessageBase64(wallet.id, toBase64(bytes)), (e) => {
          assert.notEqual(e.code, 0);
          assert.match(e.stderr, /MESSAGE_IS_TRANSACTION/);
          return true;
        });
      }
    }
    assert.equal(svm.getBalance(to), null);
  });

  test('sign message signs a kit off-chain message, and kit verifies the envelope', async () => {
    const envelope = compileOffchainMessageV0Envelope({
      version: 0,
      applicationDomain: offchainMessageApplicationDomain(wallet.address),
      content: offchainMessageContentRestrictedAsciiOf1232BytesMax('Sign in to interop.example, nonce 8d1f'),
      requiredSignatories: [{ address: wallet.address }],
    });
    const content = new Uint8Array(envelope.content);
    assert.deepEqual(Array.from(content.slice(0, 16)), [0xff, ...Buffer.from('solana offchain')]);
    const out = await dyad.signMessageBase64(wallet.id, toBase64(content));
    const signed = { ...envelope, signatures: { [wallet.address]: fromHex(out.signature) } };
    await verifyOffchainMessageEnvelope(signed);
    // The check can fail: a flipped byte of the signature is refused.
    const tampered = fromHex(out.signature);
    tampered[5] ^= 1;
    await assert.rejects(verifyOffchainMessageEnvelope({ ...envelope, signatures: { [wallet.address]: tampered } }));
  });

  test('a transaction the wallet does not have to sign is refused before signing', async () => {
    const other = await generateKeyPairSigner();
    const message = pipe(
      createTransactionMessage({ version: 0 }),
      (m) => setTransactionMessageFeePayer(other.address, m),
      (m) => svm.setTransactionMessageLifetimeUsingLatestBlockhash(m),
      (m) => appendTransactionMessageInstruction(getTransferSolInstruction({ source: other, destination: wallet.address, amount: lamports(1n) }), m),
    );
    const bytes = getTransactionEncoder().encode(compileTransaction(message));
    await assert.rejects(dyad.signTransaction(wallet.id, toBase64(bytes)), (e) => {
      assert.match(e.stderr, /NOT_A_SIGNER|not a signer/i);
      return true;
    });
  });
});

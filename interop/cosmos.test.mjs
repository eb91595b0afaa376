// Cosmos: sign docs built with CosmJS (direct/protobuf and legacy amino JSON) and ADR-036
// messages, signed by a pregenerated Dyad wallet and checked with CosmJS's secp256k1 verifier
// over the digest a Cosmos SDK node computes (sha256 of the sign bytes).

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';

import {
  encodeSecp256k1Pubkey,
  makeSignDoc as makeAminoSignDoc,
  pubkeyToAddress,
  serializeSignDoc,
} from '@cosmjs/amino';
import { Secp256k1, Secp256k1Signature, sha256 } from '@cosmjs/crypto';
import { fromBase64, toBase64, toBech32, toHex } from '@cosmjs/encoding';
import {
  Registry,
  decodeTxRaw,
  encodePubkey,
  makeAuthInfoBytes,
  makeSignBytes,
  makeSignDoc,
} from '@cosmjs/proto-signing';
import { MsgSend } from 'cosmjs-types/cosmos/bank/v1beta1/tx';
import { SignMode } from 'cosmjs-types/cosmos/tx/signing/v1beta1/signing';
import { TxRaw } from 'cosmjs-types/cosmos/tx/v1beta1/tx';

import { fromHex, startDyad } from './lib/dyad.mjs';
import { stopAll } from './lib/procs.mjs';

const PREFIX = 'cosmos';
const CHAIN_ID = 'cosmoshub-4';
const MSG_SEND = '/cosmos.bank.v1beta1.MsgSend';
// secp256k1's group order n, halved: the Cosmos SDK accepts only s ≤ n/2.
const HALF_N = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0n;

const registry = new Registry([[MSG_SEND, MsgSend]]);

let dyad;
let wallet;
let pubkey; // 33-byte compressed secp256k1 key

before(async () => {
  dyad = await startDyad();
  wallet = await dyad.pregen('COSMOS', 'cosmos-interop@example.com');
  pubkey = fromHex(wallet.publicKey);
});

after(async () => {
  await dyad?.close();
  await stopAll();
});

function freshAddress() {
  return toBech32(PREFIX, randomBytes(20));
}

/** Checks a 64-byte r‖s signature over sha256(signBytes) with CosmJS, and that s is low. */
async function assertVerifies(signatureHex, signBytes, key = pubkey) {
  assert.match(signatureHex, /^0x[0-9a-f]{128}$/);
  const raw = fromHex(signatureHex);
  const signature = Secp256k1Signature.fromFixedLength(raw);
  assert.ok(BigInt(`0x${toHex(signature.s())}`) <= HALF_N, 'the Cosmos SDK wants a low s');
  assert.equal(await Secp256k1.verifySignature(signature, sha256(signBytes), key), true);
  return raw;
}

/** A direct-mode SignDoc for a MsgSend from `from`, signed by `signers` (pubkeys, in order). */
function directSignDoc({ from, to, amount, memo, signers, accountNumber = 42 }) {
  const bodyBytes = registry.encodeTxBody({
    messages: [
      {
        typeUrl: MSG_SEND,
        value: MsgSend.fromPartial({ fromAddress: from, toAddress: to, amount: [{ denom: 'uatom', amount }] }),
      },
    ],
    memo,
  });
  const authInfoBytes = makeAuthInfoBytes(
    signers.map((key, i) => ({ pubkey: encodePubkey(encodeSecp256k1Pubkey(key)), sequence: 7 + i })),
    [{ denom: 'uatom', amount: '5000' }],
    200_000,
    undefined,
    undefined,
    SignMode.SIGN_MODE_DIRECT,
  );
  return makeSignDoc(bodyBytes, authInfoBytes, CHAIN_ID, accountNumber);
}

describe('Cosmos with CosmJS', () => {
  test('the wallet address is CosmJS pubkeyToAddress of its public key', () => {
    assert.equal(pubkey.length, 33);
    assert.equal(pubkeyToAddress(encodeSecp256k1Pubkey(pubkey), PREFIX), wallet.address);
  });

  test('direct mode: a MsgSend SignDoc verifies and the TxRaw carries the signature', async () => {
    const to = freshAddress();
    const signDoc = directSignDoc({ from: wallet.address, to, amount: '1234567', memo: 'interop <&> direct', signers: [pubkey] });
    const signBytes = makeSignBytes(signDoc);
    const out = await dyad.signTransaction(wallet.id, toBase64(signBytes), { signMode: 'direct' });
    assert.equal(out.walletId, wallet.id);
    const signature = await assertVerifies(out.signature, signBytes);

    // The returned TxRaw decodes and is the sign doc's body and auth info plus the signature.
    const txRawBytes = fromBase64(out.signedTransaction);
    const txRaw = TxRaw.decode(txRawBytes);
    assert.deepEqual(txRaw.bodyBytes, signDoc.bodyBytes);
    assert.deepEqual(txRaw.authInfoBytes, signDoc.authInfoBytes);
    assert.equal(txRaw.signatures.length, 1);
    assert.deepEqual(txRaw.signatures[0], signature);
    // It is exactly what CosmJS would broadcast for the same parts.
    assert.deepEqual(
      TxRaw.encode(TxRaw.fromPartial({ bodyBytes: signDoc.bodyBytes, authInfoBytes: signDoc.authInfoBytes, signatures: [signature] })).finish(),
      txRawBytes,
    );
    const decoded = decodeTxRaw(txRawBytes);
    assert.equal(decoded.body.memo, 'interop <&> direct');
    assert.equal(decoded.body.messages[0].typeUrl, MSG_SEND);
    const msg = MsgSend.decode(decoded.body.messages[0].value);
    assert.equal(msg.fromAddress, wallet.address);
    assert.equal(msg.toAddress, to);
    assert.deepEqual(decoded.authInfo.signerInfos[0].publicKey, encodePubkey(encodeSecp256k1Pubkey(pubkey)));
    assert.equal(decoded.authInfo.signerInfos[0].modeInfo.single.mode, SignMode.SIGN_MODE_DIRECT);

    // A node rebuilds the SignDoc from the TxRaw and the account; the signature holds for it.
    const rebuilt = makeSignBytes(makeSignDoc(txRaw.bodyBytes, txRaw.authInfoBytes, CHAIN_ID, 42));
    assert.equal(await Secp256k1.verifySignature(Secp256k1Signature.fromFixedLength(txRaw.signatures[0]), sha256(rebuilt), pubkey), true);
    // …and not for another account number.
    const other = makeSignBytes(makeSignDoc(txRaw.bodyBytes, txRaw.authInfoBytes, CHAIN_ID, 43));
    assert.equal(await Secp256k1.verifySignature(Secp256k1Signature.fromFixedLength(txRaw.signatures[0]), sha256(other), pubkey), false);
  });

  test('direct mode: the wallet as second signer fills only its own TxRaw slot', async () => {
    const otherKey = Secp256k1.compressPubkey((await Secp256k1.makeKeypair(randomBytes(32))).pubkey);
    const signDoc = directSignDoc({
      from: wallet.address,
      to: freshAddress(),
      amount: '1',
      memo: '',
      signers: [otherKey, pubkey],
    });
    const signBytes = makeSignBytes(signDoc);
    const out = await dyad.signTransaction(wallet.id, toBase64(signBytes), { signMode: 'direct' });
    const signature = await assertVerifies(out.signature, signBytes);
    const txRaw = TxRaw.decode(fromBase64(out.signedTransaction));
    assert.equal(txRaw.signatures.length, 2);
    assert.equal(txRaw.signatures[0].length, 0);
    assert.deepEqual(txRaw.signatures[1], signature);
  });

  test('direct mode: a SignDoc that does not list the wallet is refused', async () => {
    const otherKey = Secp256k1.compressPubkey((await Secp256k1.makeKeypair(randomBytes(32))).pubkey);
    const signDoc = directSignDoc({ from: wallet.address, to: freshAddress(), amount: '1', memo: '', signers: [otherKey] });
    await assert.rejects(
      dyad.signTransaction(wallet.id, toBase64(makeSignBytes(signDoc)), { signMode: 'direct' }),
      (e) => {
        assert.match(e.stderr, /NOT_A_SIGNER|not a signer/i);
        return true;
      },
    );
  });

  test('amino mode: a serializeSignDoc StdSignDoc verifies', async () => {
    const to = freshAddress();
    const signDoc = makeAminoSignDoc(
      [
        {
          type: 'cosmos-sdk/MsgSend',
          value: { from_address: wallet.address, to_address: to, amount: [{ denom: 'uatom', amount: '1000' }] },
        },
      ],
      { amount: [{ denom: 'uatom', amount: '2500' }], gas: '100000' },
      CHAIN_ID,
      'amino memo with <, > & "quotes" and ünïcode',
      42,
      7,
    );
    const signBytes = serializeSignDoc(signDoc);
    const out = await dyad.signTransaction(wallet.id, toBase64(signBytes), { signMode: 'amino' });
    assert.equal(out.walletId, wallet.id);
    assert.equal(out.signedTransaction, null);
    await assertVerifies(out.signature, signBytes);
  });

  test('amino mode: a sign doc whose sender is someone else is refused', async () => {
    const signDoc = makeAminoSignDoc(
      [
        {
          type: 'cosmos-sdk/MsgSend',
          value: { from_address: freshAddress(), to_address: freshAddress(), amount: [{ denom: 'uatom', amount: '1' }] },
        },
      ],
      { amount: [], gas: '100000' },
      CHAIN_ID,
      '',
      1,
      0,
    );
    await assert.rejects(
      dyad.signTransaction(wallet.id, toBase64(serializeSignDoc(signDoc)), { signMode: 'amino' }),
      (e) => {
        assert.match(e.stderr, /NOT_A_SIGNER|not a signer/i);
        return true;
      },
    );
  });

  test('signMessage: the ADR-036 sign doc built with CosmJS amino verifies', async () => {
    const message = 'Sign in to interop <&> ✓';
    const { signature } = await dyad.signMessage(wallet.id, message);
    // ADR-036 (as Keplr signArbitrary / verifyADR36Amino build it): an amino StdSignDoc with
    // empty chain id, zero account number and sequence, no fee, one sign/MsgSignData.
    const doc = makeAminoSignDoc(
      [{ type: 'sign/MsgSignData', value: { signer: wallet.address, data: toBase64(new TextEncoder().encode(message)) } }],
      { gas: '0', amount: [] },
      '',
      '',
      0,
      0,
    );
    await assertVerifies(signature, serializeSignDoc(doc));
    // Another signer in the doc does not verify.
    const forged = makeAminoSignDoc(
      [{ type: 'sign/MsgSignData', value: { signer: freshAddress(), data: toBase64(new TextEncoder().encode(message)) } }],
      { gas: '0', amount: [] },
      '',
      '',
      0,
      0,
    );
    assert.equal(
      await Secp256k1.verifySignature(Secp256k1Signature.fromFixedLength(fromHex(signature)), sha256(serializeSignDoc(forged)), pubkey),
      false,
    );
  });
});

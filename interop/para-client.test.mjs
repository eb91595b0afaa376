// `dyad agent` against a client written from Para's REST API docs (the shapes in
// ../shared/reference/para-rest.md), not from Dyad's: plain fetch, Para's headers, bodies and
// answers. What it signs is checked with viem and @stellar/stellar-sdk.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';

import { Account, Asset, BASE_FEE, Keypair, Networks, Operation, TransactionBuilder } from '@stellar/stellar-sdk';
import { recoverTransactionAddress, verifyTypedData } from 'viem';

import { DYAD_BIN, startDyad } from './lib/dyad.mjs';
import { run, start, stopAll, waitForOutput } from './lib/procs.mjs';

/** A Para REST v1 client, as its docs describe it: X-API-Key, JSON bodies, Idempotency-Key on POSTs. */
class ParaRest {
  constructor(baseUrl, apiKey) {
    this.baseUrl = baseUrl;
    this.apiKey = apiKey;
  }

  async request(method, path, body, { idempotencyKey, requestId } = {}) {
    const headers = { 'X-API-Key': this.apiKey };
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    if (idempotencyKey) headers['Idempotency-Key'] = idempotencyKey;
    if (requestId) headers['X-Request-Id'] = requestId;
    const r = await fetch(`${this.baseUrl}/v1${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    return { status: r.status, headers: r.headers, body: await r.json() };
  }

  createWallet({ type, userIdentifier, userIdentifierType, scheme }, options) {
    return this.request('POST', '/wallets', { type, userIdentifier, userIdentifierType, ...(scheme ? { scheme } : {}) }, options);
  }

  getWallet(walletId) {
    return this.request('GET', `/wallets/${walletId}`);
  }

  signTransaction(walletId, transaction, extra = {}) {
    return this.request('POST', `/wallets/${walletId}/sign-transaction`, { transaction, ...extra });
  }

  signTypedData(walletId, typedData) {
    return this.request('POST', `/wallets/${walletId}/sign-typed-data`, { typedData });
  }
}

/** Para's wallet object once ready: these fields, of these kinds. */
function assertParaWallet(w, { type, scheme, userIdentifier, userIdentifierType }) {
  for (const field of ['id', 'type', 'scheme', 'status', 'createdAt', 'address', 'publicKey', 'userIdentifier', 'userIdentifierType']) {
    assert.ok(field in w, `the wallet object has ${field}: ${JSON.stringify(w)}`);
  }
  assert.match(w.id, /^[0-9a-f-]{36}$/);
  assert.deepEqual([w.type, w.scheme, w.status], [type, scheme, 'ready']);
  assert.deepEqual([w.userIdentifier, w.userIdentifierType], [userIdentifier, userIdentifierType]);
  assert.ok(!Number.isNaN(Date.parse(w.createdAt)), `createdAt is a date: ${w.createdAt}`);
}

let dyad;
let para;

before(async () => {
  dyad = await startDyad();
  const keys = path.join(dyad.dir, 'agent.keys');
  const agentKey = (await run(DYAD_BIN, ['agent', 'key', 'create', '--keys', keys])).trim();
  const agent = start(
    DYAD_BIN,
    ['agent', '--listen', '127.0.0.1:0', '--keys', keys, '--vault', path.join(dyad.dir, 'agent.vault'), '--state', path.join(dyad.dir, 'agent.db')],
    { env: { DYAD_URL: dyad.url, DYAD_API_KEY: dyad.apiKey, DYAD_VAULT_KEY: randomBytes(32).toString('base64') } },
  );
  const [, url] = await waitForOutput(agent, /listening on (http:\/\/127\.0\.0\.1:\d+)/, { what: 'the agent\'s "listening on" line' });
  para = new ParaRest(url, agentKey);
});

after(async () => {
  await stopAll();
  await dyad?.close();
});

const typedData = {
  domain: { name: 'Ether Mail', version: '1', chainId: 1, verifyingContract: '0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC' },
  types: {
    Person: [{ name: 'name', type: 'string' }, { name: 'wallet', type: 'address' }],
    Mail: [{ name: 'from', type: 'Person' }, { name: 'to', type: 'Person' }, { name: 'contents', type: 'string' }],
  },
  primaryType: 'Mail',
  message: {
    from: { name: 'Cow', wallet: '0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826' },
    to: { name: 'Bob', wallet: '0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB' },
    contents: 'Hello, Bob!',
  },
};

describe('a client written from Para\'s REST docs, against dyad agent', () => {
  test('EVM: create (201, Para\'s wallet object), duplicate (409 with walletId), get, sign a transaction and typed data', async () => {
    const who = { userIdentifier: 'para-client@example.com', userIdentifierType: 'EMAIL' };
    const created = await para.createWallet({ type: 'EVM', ...who }, { requestId: 'req-1' });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.equal(created.headers.get('x-request-id'), 'req-1');
    const w = created.body;
    assertParaWallet(w, { type: 'EVM', scheme: 'DKLS', ...who });

    const dup = await para.createWallet({ type: 'EVM', scheme: 'DKLS', ...who });
    assert.equal(dup.status, 409);
    assert.deepEqual([dup.body.code, dup.body.walletId], ['WALLET_ALREADY_EXISTS', w.id]);
    assert.equal(typeof dup.body.message, 'string');
    assert.ok(dup.headers.get('x-request-id'), 'an X-Request-Id is generated when none is sent');

    const got = await para.getWallet(w.id);
    assert.equal(got.status, 200);
    assert.deepEqual(got.body, w);

    // Para's EVM transaction object, quantities as 0x-hex strings.
    const to = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8';
    const signed = await para.signTransaction(w.id, {
      to, chainId: '0x89', type: '0x2', value: '0x2386f26fc10000', data: '0x', nonce: '0x3',
      gasLimit: '0x5208', maxFeePerGas: '0x77359400', maxPriorityFeePerGas: '0x3b9aca00',
    });
    assert.equal(signed.status, 200, JSON.stringify(signed.body));
    assert.match(signed.body.signedTransaction, /^0x02/);
    const from = await recoverTransactionAddress({ serializedTransaction: signed.body.signedTransaction });
    assert.equal(from, w.address);

    const typed = await para.signTypedData(w.id, typedData);
    assert.equal(typed.status, 200, JSON.stringify(typed.body));
    assert.match(typed.body.signature, /^[0-9a-f]{130}$/, 'hex without 0x, as Para answers it');
    assert.ok(await verifyTypedData({ address: w.address, ...typedData, signature: `0x${typed.body.signature}` }));
  });

  test('Stellar: a base64 XDR envelope with networkPassphrase comes back signed', async () => {
    const who = { userIdentifier: 'stellar-para-client', userIdentifierType: 'CUSTOM_ID' };
    const created = await para.createWallet({ type: 'STELLAR', ...who });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const w = created.body;
    assertParaWallet(w, { type: 'STELLAR', scheme: 'ED25519', ...who });
    const tx = new TransactionBuilder(new Account(w.address, '42'), { fee: BASE_FEE, networkPassphrase: Networks.TESTNET })
      .addOperation(Operation.payment({ destination: Keypair.random().publicKey(), asset: Asset.native(), amount: '1' }))
      .setTimeout(300)
      .build();
    const signed = await para.signTransaction(w.id, tx.toEnvelope().toXDR('base64'), { networkPassphrase: Networks.TESTNET });
    assert.equal(signed.status, 200, JSON.stringify(signed.body));
    const back = TransactionBuilder.fromXDR(signed.body.signedTransaction, Networks.TESTNET);
    assert.deepEqual(back.hash(), tx.hash());
    assert.equal(back.signatures.length, 1);
    assert.ok(Keypair.fromPublicKey(w.address).verify(tx.hash(), back.signatures[0].signature()));
  });

  test('Para\'s errors: an unknown wallet is 404, a missing key 401, GUEST_ID is refused with a reason', async () => {
    const missing = await para.getWallet('00000000-0000-4000-8000-000000000000');
    assert.deepEqual([missing.status, missing.body.code], [404, 'WALLET_NOT_FOUND']);
    const anonymous = await fetch(`${para.baseUrl}/v1/wallets/00000000-0000-4000-8000-000000000000`);
    assert.equal(anonymous.status, 401);
    const guest = await para.createWallet({ type: 'SOLANA', userIdentifier: 'g-1', userIdentifierType: 'GUEST_ID' });
    assert.equal(guest.status, 400);
    assert.equal(guest.body.code, 'UNSUPPORTED');
    assert.match(guest.body.message, /CUSTOM_ID/);
  });
});

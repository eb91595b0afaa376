// EVM: a pregenerated Dyad wallet signs transactions that anvil mines, and signatures that viem
// verifies. Unsigned transactions are built with viem's serializeTransaction; Dyad only ever
// sees the bytes.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';

import {
  createPublicClient,
  createTestClient,
  getAddress,
  hashMessage,
  hashTypedData,
  http,
  isAddressEqual,
  keccak256,
  parseEther,
  parseGwei,
  parseTransaction,
  recoverAddress,
  recoverTransactionAddress,
  serializeTransaction,
  toHex,
  verifyMessage,
  verifyTypedData,
} from 'viem';
import { foundry } from 'viem/chains';

import { startAnvil } from './lib/anvil.mjs';
import { startDyad } from './lib/dyad.mjs';
import { stopAll } from './lib/procs.mjs';

const CHAIN_ID = foundry.id; // 31337

// The EIP-712 specification's example, as eth_signTypedData_v4 takes it.
const MAIL = {
  types: {
    EIP712Domain: [
      { name: 'name', type: 'string' },
      { name: 'version', type: 'string' },
      { name: 'chainId', type: 'uint256' },
      { name: 'verifyingContract', type: 'address' },
    ],
    Person: [
      { name: 'name', type: 'string' },
      { name: 'wallet', type: 'address' },
    ],
    Mail: [
      { name: 'from', type: 'Person' },
      { name: 'to', type: 'Person' },
      { name: 'contents', type: 'string' },
    ],
  },
  primaryType: 'Mail',
  domain: {
    name: 'Ether Mail',
    version: '1',
    chainId: 1,
    verifyingContract: '0xCcCCccccCCCCcCCCCCCcCcCccCcCCCcCcccccccC',
  },
  message: {
    from: { name: 'Cow', wallet: '0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826' },
    to: { name: 'Bob', wallet: '0xbBbBBBBbbBBBbbbBbbBbbbbBBbBbbbbBbBbbBBbB' },
    contents: 'Hello, Bob!',
  },
};
// The digest the specification gives for it.
const MAIL_DIGEST = '0xbe609aee343fb3c4b28e1df9e632fca64fcfaede20f02e86244efddf30957bd2';

/** viem's typed-data arguments: the same document without the EIP712Domain type. */
function viemTypedData(doc) {
  const { EIP712Domain, ...types } = doc.types;
  return { domain: doc.domain, types, primaryType: doc.primaryType, message: doc.message };
}

/** A fresh address nobody holds a key for, so its balance starts at zero. */
function freshAddress() {
  return getAddress(toHex(randomBytes(20)));
}

/** The 65-byte r‖s‖v (v = 27 + yParity) of a signed raw transaction, as Dyad reports it. */
function signatureOf(signedTx) {
  const tx = parseTransaction(signedTx);
  const v = 27 + Number(tx.yParity);
  return `0x${tx.r.slice(2).padStart(64, '0')}${tx.s.slice(2).padStart(64, '0')}${v.toString(16)}`;
}

let dyad;
let anvil;
let wallet;
let publicClient;
let testClient;

before(async () => {
  dyad = await startDyad();
  anvil = await startAnvil({ chainId: CHAIN_ID });
  const transport = http(anvil.url, { retryCount: 0, timeout: 30_000 });
  publicClient = createPublicClient({ chain: foundry, transport, pollingInterval: 50 });
  testClient = createTestClient({ chain: foundry, mode: 'anvil', transport });
  wallet = await dyad.pregen('EVM', 'evm-interop@example.com');
  await testClient.setBalance({ address: wallet.address, value: parseEther('10') });
});

after(async () => {
  await dyad?.close();
  await stopAll();
});

/** Signs `unsigned` (viem transaction fields) with Dyad, sends it to anvil, returns what happened. */
async function signAndSend(fields) {
  const unsigned = serializeTransaction({ chainId: CHAIN_ID, ...fields });
  const out = await dyad.signTransaction(wallet.id, unsigned, { chainId: CHAIN_ID });
  assert.equal(out.walletId, wallet.id);
  assert.match(out.signedTransaction, /^0x[0-9a-f]+$/);
  const signed = out.signedTransaction;

  // viem recovers the wallet as the sender, and the signed transaction is the unsigned one
  // plus a signature.
  const sender = await recoverTransactionAddress({ serializedTransaction: signed });
  assert.ok(isAddressEqual(sender, wallet.address), `recovered ${sender}, wallet ${wallet.address}`);
  const parsed = parseTransaction(signed);
  assert.equal(parsed.type, fields.type);
  assert.equal(parsed.chainId, CHAIN_ID);
  assert.equal(parsed.nonce, fields.nonce);
  assert.ok(isAddressEqual(parsed.to, fields.to));
  assert.equal(parsed.value, fields.value);
  assert.equal(out.signature, signatureOf(signed));

  const before = await publicClient.getBalance({ address: fields.to });
  const hash = await publicClient.sendRawTransaction({ serializedTransaction: signed });
  assert.equal(hash, keccak256(signed));
  const receipt = await publicClient.waitForTransactionReceipt({ hash, timeout: 30_000 });
  const afterBalance = await publicClient.getBalance({ address: fields.to });
  return { receipt, delta: afterBalance - before };
}

describe('EVM with anvil and viem', () => {
  test('anvil mines an EIP-1559 transfer signed by the pregenerated wallet', async () => {
    const to = freshAddress();
    const value = parseEther('0.25');
    const nonce = await publicClient.getTransactionCount({ address: wallet.address });
    const { receipt, delta } = await signAndSend({
      type: 'eip1559',
      nonce,
      to,
      value,
      gas: 21_000n,
      maxFeePerGas: parseGwei('20'),
      maxPriorityFeePerGas: parseGwei('1'),
    });
    assert.equal(receipt.status, 'success');
    assert.equal(receipt.type, 'eip1559');
    assert.ok(isAddressEqual(receipt.from, wallet.address));
    assert.ok(isAddressEqual(receipt.to, to));
    assert.equal(delta, value);
  });

  test('anvil mines a legacy (EIP-155) transfer signed by the pregenerated wallet', async () => {
    const to = freshAddress();
    const value = parseEther('0.125');
    const nonce = await publicClient.getTransactionCount({ address: wallet.address });
    const { receipt, delta } = await signAndSend({
      type: 'legacy',
      nonce,
      to,
      value,
      gas: 21_000n,
      gasPrice: parseGwei('20'),
    });
    assert.equal(receipt.status, 'success');
    assert.equal(receipt.type, 'legacy');
    assert.ok(isAddressEqual(receipt.from, wallet.address));
    assert.equal(delta, value);
    // EIP-155: v carries the chain id.
    const tx = await publicClient.getTransaction({ hash: receipt.transactionHash });
    assert.ok(tx.v === BigInt(CHAIN_ID * 2 + 35) || tx.v === BigInt(CHAIN_ID * 2 + 36), `v = ${tx.v}`);
  });

  test('anvil mines an EIP-2930 transfer with an access list', async () => {
    const to = freshAddress();
    const value = 12_345n;
    const nonce = await publicClient.getTransactionCount({ address: wallet.address });
    const { receipt, delta } = await signAndSend({
      type: 'eip2930',
      nonce,
      to,
      value,
      gas: 30_000n,
      gasPrice: parseGwei('20'),
      accessList: [{ address: to, storageKeys: [toHex(1n, { size: 32 })] }],
    });
    assert.equal(receipt.status, 'success');
    assert.ok(isAddressEqual(receipt.from, wallet.address));
    assert.equal(delta, value);
  });

  test('a transaction signed for another chain id is refused before signing', async () => {
    const unsigned = serializeTransaction({
      chainId: 1,
      type: 'eip1559',
      nonce: 0,
      to: freshAddress(),
      value: 1n,
      gas: 21_000n,
      maxFeePerGas: parseGwei('20'),
      maxPriorityFeePerGas: parseGwei('1'),
    });
    await assert.rejects(dyad.signTransaction(wallet.id, unsigned, { chainId: CHAIN_ID }), (e) => {
      assert.match(e.stderr, /CHAIN_ID_MISMATCH/);
      return true;
    });
  });

  test('viem verifies an EIP-712 typed-data signature (the specification\'s Mail example)', async () => {
    assert.equal(hashTypedData(viemTypedData(MAIL)), MAIL_DIGEST);
    const { signature } = await dyad.signTypedData(wallet.id, MAIL);
    assert.match(signature, /^0x[0-9a-f]{130}$/);
    assert.equal(
      await verifyTypedData({ address: wallet.address, signature, ...viemTypedData(MAIL) }),
      true,
    );
    // Another message does not verify with that signature.
    const other = { ...MAIL, message: { ...MAIL.message, contents: 'Hello, Alice!' } };
    assert.equal(
      await verifyTypedData({ address: wallet.address, signature, ...viemTypedData(other) }),
      false,
    );
  });

  test('viem verifies an EIP-712 permit with uint256 and bytes32 fields', async () => {
    const permit = {
      types: {
        EIP712Domain: [
          { name: 'name', type: 'string' },
          { name: 'version', type: 'string' },
          { name: 'chainId', type: 'uint256' },
          { name: 'verifyingContract', type: 'address' },
          { name: 'salt', type: 'bytes32' },
        ],
        Permit: [
          { name: 'owner', type: 'address' },
          { name: 'spender', type: 'address' },
          { name: 'value', type: 'uint256' },
          { name: 'nonce', type: 'uint256' },
          { name: 'deadline', type: 'uint256' },
          { name: 'tags', type: 'string[]' },
        ],
      },
      primaryType: 'Permit',
      domain: {
        name: 'Interop Token',
        version: '2',
        chainId: CHAIN_ID,
        verifyingContract: '0x5FbDB2315678afecb367f032d93F642f64180aa3',
        salt: toHex(7n, { size: 32 }),
      },
      message: {
        owner: wallet.address,
        spender: '0x70997970C51812dc3A010C7d01b50e0d17dc79C8',
        value: '115792089237316195423570985008687907853269984665640564039457584007913129639935',
        nonce: 0,
        deadline: '1893456000',
        tags: ['a', '<&>', 'ünïcode'],
      },
    };
    const { signature } = await dyad.signTypedData(wallet.id, permit);
    const args = viemTypedData(permit);
    args.message = {
      ...args.message,
      value: BigInt(args.message.value),
      nonce: 0n,
      deadline: BigInt(args.message.deadline),
    };
    assert.equal(await verifyTypedData({ address: wallet.address, signature, ...args }), true);
  });

  test('viem verifies a signMessage (EIP-191) signature', async () => {
    const message = 'Hello from the Dyad interop tests ✓';
    const { signature } = await dyad.signMessage(wallet.id, message);
    assert.equal(await verifyMessage({ address: wallet.address, message, signature }), true);
    assert.equal(await verifyMessage({ address: wallet.address, message: `${message}!`, signature }), false);
    assert.ok(isAddressEqual(await recoverAddress({ hash: hashMessage(message), signature }), wallet.address));
  });

  test('viem recovers the wallet from a raw digest signature', async () => {
    const digest = keccak256(toHex('interop raw digest'));
    await assert.rejects(dyad.signRaw(wallet.id, digest), /RAW_SIGNING_DISABLED/);
    await dyad.allowRawSigning(true);
    const { signature } = await dyad.signRaw(wallet.id, digest);
    assert.ok(isAddressEqual(await recoverAddress({ hash: digest, signature }), wallet.address));
  });
});

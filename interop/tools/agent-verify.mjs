// Checks for interop/agent.sh with each chain's own tooling (viem, @solana/kit), one check per
// call: exits 0 when it holds, 1 (with the reason) when not.
//   evm-message ADDRESS TEXT SIGNATURE      viem verifyMessage (EIP-191)
//   evm-tx ADDRESS SIGNED_TX TO VALUE_WEI   viem parseTransaction + recoverTransactionAddress
//   solana-transfer ADDRESS                 prints an unsigned v0 transfer from ADDRESS (base64 wire)
//   solana-tx ADDRESS UNSIGNED SIGNED       kit: same message, ADDRESS's Ed25519 signature over it
//   solana-message ADDRESS TEXT SIGNATURE   kit verifySignature over the text's bytes

import { getTransferSolInstruction } from '@solana-program/system';
import {
  appendTransactionMessageInstruction,
  compileTransaction,
  createNoopSigner,
  createTransactionMessage,
  generateKeyPairSigner,
  getPublicKeyFromAddress,
  getTransactionDecoder,
  getTransactionEncoder,
  lamports,
  pipe,
  setTransactionMessageFeePayer,
  setTransactionMessageLifetimeUsingBlockhash,
} from '@solana/kit';
import { verifySignature } from '@solana/kit';
import { parseTransaction, recoverTransactionAddress, verifyMessage } from 'viem';

const [what, ...args] = process.argv.slice(2);
const fail = (why) => {
  console.error(`${what}: ${why}`);
  process.exit(1);
};
const hex = (h) => Uint8Array.from(Buffer.from(h.replace(/^0x/, ''), 'hex'));
const b64 = (s) => Uint8Array.from(Buffer.from(s, 'base64'));

switch (what) {
  case 'evm-message': {
    const [address, text, signature] = args;
    const ok = await verifyMessage({ address, message: text, signature });
    if (!ok) fail('viem verifyMessage says no');
    break;
  }
  case 'evm-tx': {
    const [address, signed, to, value] = args;
    const from = await recoverTransactionAddress({ serializedTransaction: signed });
    if (from.toLowerCase() !== address.toLowerCase()) fail(`signed by ${from}, not ${address}`);
    const tx = parseTransaction(signed);
    if (tx.to?.toLowerCase() !== to.toLowerCase() || tx.value !== BigInt(value)) fail(`another transaction: ${JSON.stringify(tx, (_, v) => (typeof v === 'bigint' ? v.toString() : v))}`);
    break;
  }
  case 'solana-transfer': {
    const [address] = args;
    const to = (await generateKeyPairSigner()).address;
    const message = pipe(
      createTransactionMessage({ version: 0 }),
      (m) => setTransactionMessageFeePayer(address, m),
      (m) => setTransactionMessageLifetimeUsingBlockhash({ blockhash: '4vJ9JU1bJJE96FWSJKvHsmmFADCg4gpZQff4P3bkLKi', lastValidBlockHeight: 100n }, m),
      (m) => appendTransactionMessageInstruction(getTransferSolInstruction({ source: createNoopSigner(address), destination: to, amount: lamports(1_000_000n) }), m),
    );
    console.log(Buffer.from(getTransactionEncoder().encode(compileTransaction(message))).toString('base64'));
    break;
  }
  case 'solana-tx': {
    const [address, unsigned, signed] = args;
    const before = getTransactionDecoder().decode(b64(unsigned));
    const after = getTransactionDecoder().decode(b64(signed));
    if (Buffer.compare(Buffer.from(before.messageBytes), Buffer.from(after.messageBytes)) !== 0) fail('the message changed');
    const sig = after.signatures[address];
    if (!sig) fail('no signature of the wallet');
    const key = await getPublicKeyFromAddress(address);
    if (!(await verifySignature(key, sig, after.messageBytes))) fail('kit verifySignature says no');
    break;
  }
  case 'solana-message': {
    const [address, text, signature] = args;
    const key = await getPublicKeyFromAddress(address);
    if (!(await verifySignature(key, hex(signature), new TextEncoder().encode(text)))) fail('kit verifySignature says no');
    break;
  }
  default:
    fail('unknown check');
}

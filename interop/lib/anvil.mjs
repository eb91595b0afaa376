// Anvil (Foundry's local Ethereum node) from its npm package: the platform package ships the
// binary, which runs offline. Started on 127.0.0.1 port 0; the port is read from its
// "Listening on" line.

import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';

import { BINARY_NAME, PLATFORM_SPECIFIC_PACKAGE_NAME } from '@foundry-rs/anvil/const.mjs';

import { start, stop, waitForOutput } from './procs.mjs';

const require = createRequire(import.meta.url);

/** The anvil executable shipped in @foundry-rs/anvil's platform package. */
export function anvilBinary() {
  const pkg = PLATFORM_SPECIFIC_PACKAGE_NAME('anvil');
  if (!pkg) throw new Error(`@foundry-rs/anvil has no binary for ${process.platform}/${process.arch}`);
  const bin = require.resolve(`${pkg}/bin/${BINARY_NAME('anvil')}`);
  if (!existsSync(bin)) throw new Error(`anvil binary missing at ${bin} (npm ci --prefix interop)`);
  return bin;
}

/** Starts anvil for `chainId`; returns { process, url, stop() } once it answers JSON-RPC. */
export async function startAnvil({ chainId }) {
  const child = start(anvilBinary(), [
    '--host',
    '127.0.0.1',
    '--port',
    '0',
    '--chain-id',
    String(chainId),
    '--accounts',
    '1',
  ]);
  try {
    const [, hostPort] = await waitForOutput(child, /Listening on (127\.0\.0\.1:\d+)/, {
      what: 'anvil\'s "Listening on" line',
    });
    const url = `http://${hostPort}`;
    // It prints the line once its socket is bound; one request confirms it answers, with a
    // bounded number of attempts.
    let lastError;
    for (let attempt = 0; attempt < 50; attempt++) {
      try {
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_chainId', params: [] }),
        });
        const body = await res.json();
        if (BigInt(body.result) !== BigInt(chainId)) throw new Error(`anvil reports chain ${body.result}`);
        return { process: child, url, stop: () => stop(child) };
      } catch (e) {
        lastError = e;
        if (child.exitCode !== null) break;
      }
    }
    throw new Error(`anvil at ${url} did not answer: ${lastError}\n${child.log}`);
  } catch (e) {
    await stop(child);
    throw e;
  }
}

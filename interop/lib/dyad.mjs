// Drives the real `dyad` binary: a server on port 0 over a temporary data folder, an app, wallets
// pregenerated through the CLI, and `dyad sign …` calls. Everything goes through the binary's
// command line with --json, as an operator's scripts would.

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import { onExit, run, start, stop, waitForOutput } from './procs.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));

/** The dyad binary: $DYAD_BIN, else the workspace's debug build. */
export const DYAD_BIN = path.resolve(process.env.DYAD_BIN ?? path.join(here, '..', '..', 'target', 'debug', 'dyad'));

/** Parses the one line of JSON a `--json` command prints. */
function parseJson(stdout, what) {
  const line = stdout.trim().split('\n').at(-1) ?? '';
  try {
    return JSON.parse(line);
  } catch {
    throw new Error(`${what} did not print JSON: ${stdout}`);
  }
}

/**
 * Starts `dyad serve` on 127.0.0.1 port 0 with a fresh data folder and creates a BETA app.
 * Returns a handle; call `close()` (in an `after` hook) to stop the server and remove the folder.
 */
export async function startDyad() {
  if (!existsSync(DYAD_BIN)) {
    throw new Error(`dyad binary not found at ${DYAD_BIN}: run \`cargo build --bin dyad\` or set DYAD_BIN`);
  }
  const dir = await mkdtemp(path.join(tmpdir(), 'dyad-interop-'));
  const forget = onExit(() => rmSync(dir, { recursive: true, force: true }));
  const dataDir = path.join(dir, 'data');
  let server;
  try {
    const app = parseJson(
      await run(DYAD_BIN, ['app', 'create', '--data-dir', dataDir, '--name', 'interop', '--env', 'beta', '--json']),
      'dyad app create',
    );
    server = start(DYAD_BIN, ['serve', '--listen', '127.0.0.1:0', '--data-dir', dataDir]);
    const [, url] = await waitForOutput(server, /dyad listening on (http:\/\/127\.0\.0\.1:\d+)/, {
      what: 'the "dyad listening" line',
    });
    return new DyadHandle({ dir, dataDir, server, url, appId: app.appId, apiKey: app.apiKey, forget });
  } catch (e) {
    if (server) await stop(server);
    await rm(dir, { recursive: true, force: true });
    forget();
    throw e;
  }
}

class DyadHandle {
  constructor({ dir, dataDir, server, url, appId, apiKey, forget }) {
    this.forget = forget;
    this.dir = dir;
    this.dataDir = dataDir;
    this.server = server;
    this.url = url;
    this.appId = appId;
    this.apiKey = apiKey;
    this.shareFile = path.join(dir, 'user.share');
    this.files = 0;
  }

  /** Runs `dyad ARGS --json` against this server and returns the parsed output. */
  async cli(args) {
    const stdout = await run(DYAD_BIN, [...args, '--json'], {
      env: { DYAD_URL: this.url, DYAD_API_KEY: this.apiKey },
    });
    return parseJson(stdout, `dyad ${args.slice(0, 2).join(' ')}`);
  }

  /** Pregenerates a wallet of `type` for `email`; its user share goes to this handle's share file. */
  pregen(type, email) {
    return this.cli(['pregen', 'create', '--email', email, '--type', type, '--share-file', this.shareFile]);
  }

  /** `dyad sign transaction`: `tx` is 0x-hex or base64; `opts` {chainId, networkPassphrase, signMode}. */
  signTransaction(walletId, tx, { chainId, networkPassphrase, signMode } = {}) {
    const args = ['sign', 'transaction', '--wallet', walletId, '--share-file', this.shareFile, '--tx', tx];
    if (chainId !== undefined) args.push('--chain-id', String(chainId));
    if (networkPassphrase !== undefined) args.push('--network-passphrase', networkPassphrase);
    if (signMode !== undefined) args.push('--sign-mode', signMode);
    return this.cli(args);
  }

  /** `dyad sign message --message TEXT`. */
  signMessage(walletId, message) {
    return this.cli(['sign', 'message', '--wallet', walletId, '--share-file', this.shareFile, '--message', message]);
  }

  /** `dyad sign message --message-base64 B64` (bytes that are not text). */
  signMessageBase64(walletId, base64) {
    return this.cli(['sign', 'message', '--wallet', walletId, '--share-file', this.shareFile, '--message-base64', base64]);
  }

  /** `dyad sign typed-data` with `typedData` (eth_signTypedData_v4 JSON) written to a file. */
  async signTypedData(walletId, typedData) {
    const file = path.join(this.dir, `typed-${this.files++}.json`);
    await writeFile(file, JSON.stringify(typedData));
    return this.cli(['sign', 'typed-data', '--wallet', walletId, '--share-file', this.shareFile, '--json-file', file]);
  }

  /**
   * `dyad app update --allow-raw-signing VALUE` on the data folder, as an operator would: raw
   * digest signing is off for every app until enabled. The running server sees it at once.
   */
  async allowRawSigning(value = true) {
    const stdout = await run(DYAD_BIN, [
      'app', 'update', '--data-dir', this.dataDir, '--app', this.appId,
      '--allow-raw-signing', String(value), '--json',
    ]);
    return parseJson(stdout, 'dyad app update');
  }

  /** `dyad sign raw --digest 0x…` (needs `allowRawSigning()` first). */
  signRaw(walletId, digest) {
    return this.cli(['sign', 'raw', '--wallet', walletId, '--share-file', this.shareFile, '--digest', digest]);
  }

  /** Stops the server and removes the data folder and share file. */
  async close() {
    await stop(this.server);
    await rm(this.dir, { recursive: true, force: true });
    this.forget();
  }
}

/** 0x-hex → bytes. */
export function fromHex(hex) {
  if (!/^0x([0-9a-fA-F]{2})*$/.test(hex)) throw new Error(`not 0x-hex: ${hex}`);
  return Uint8Array.from(Buffer.from(hex.slice(2), 'hex'));
}

/** bytes → base64. */
export function toBase64(bytes) {
  return Buffer.from(bytes).toString('base64');
}

/** base64 → bytes. */
export function fromBase64(b64) {
  return Uint8Array.from(Buffer.from(b64, 'base64'));
}

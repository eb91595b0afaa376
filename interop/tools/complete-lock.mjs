// Adds the other platforms' binary packages of @foundry-rs/anvil and litesvm to
// package-lock.json.
//
// Why: the package registry this project's machines reach serves only the linux-x64 (glibc)
// binary packages. `npm install` then leaves the other platforms' optional dependencies out of
// the lock file, and `npm ci` refuses such a lock ("Missing: … from lock file"). Each entry added
// here carries the package's platform (os/cpu/libc), so npm ci skips it on any other platform
// without fetching it; on that platform it is fetched by name and version (no integrity hash is
// recorded, since the registry here cannot serve it).
//
// Run after `npm install` changes the lock: `node tools/complete-lock.mjs` (from interop/).
// It changes nothing that is already present, and only adds what a parent's
// optionalDependencies name.

import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const PLATFORMS = {
  '@foundry-rs/anvil-darwin-amd64': { os: ['darwin'], cpu: ['x64'] },
  '@foundry-rs/anvil-darwin-arm64': { os: ['darwin'], cpu: ['arm64'] },
  '@foundry-rs/anvil-linux-amd64': { os: ['linux'], cpu: ['x64'] },
  '@foundry-rs/anvil-linux-arm64': { os: ['linux'], cpu: ['arm64'] },
  '@foundry-rs/anvil-win32-amd64': { os: ['win32'], cpu: ['x64'] },
  'litesvm-darwin-arm64': { os: ['darwin'], cpu: ['arm64'] },
  'litesvm-darwin-x64': { os: ['darwin'], cpu: ['x64'] },
  'litesvm-linux-arm64-gnu': { os: ['linux'], cpu: ['arm64'], libc: ['glibc'] },
  'litesvm-linux-arm64-musl': { os: ['linux'], cpu: ['arm64'], libc: ['musl'] },
  'litesvm-linux-x64-gnu': { os: ['linux'], cpu: ['x64'], libc: ['glibc'] },
  'litesvm-linux-x64-musl': { os: ['linux'], cpu: ['x64'], libc: ['musl'] },
};

const lockPath = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'package-lock.json');
const lock = JSON.parse(readFileSync(lockPath, 'utf8'));
const added = [];
for (const [key, pkg] of Object.entries(lock.packages)) {
  for (const [name, version] of Object.entries(pkg.optionalDependencies ?? {})) {
    const platform = PLATFORMS[name];
    const entry = `node_modules/${name}`;
    if (!platform || lock.packages[entry]) continue;
    // The key order npm itself writes, so a later `npm install` leaves the entry as it is.
    const { os, cpu, libc } = platform;
    lock.packages[entry] = { version, cpu, ...(libc ? { libc } : {}), optional: true, os };
    added.push(`${name}@${version} (for ${key})`);
  }
}
// npm writes packages sorted by path with an English locale comparison (the root "" first).
lock.packages = Object.fromEntries(Object.entries(lock.packages).sort(([a], [b]) => a.localeCompare(b, 'en')));
writeFileSync(lockPath, `${JSON.stringify(lock, null, 2)}\n`);
console.log(added.length ? `added:\n  ${added.join('\n  ')}` : 'nothing to add');

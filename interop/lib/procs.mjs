// Child processes for the interop tests: every process is tracked and ended at the end of the
// file's run, on success and on failure, and readiness is awaited by watching the process's own
// output with a deadline (never by sleeping).

import { spawn } from 'node:child_process';

const children = new Set();
// The last bytes of each child's output, for error messages.
const LOG_LIMIT = 64 * 1024;

// Synchronous clean-ups (temporary folders) for an exit that skips the `after` hooks.
const exitCleanups = new Set();

/** Runs `fn` (synchronous) if the process exits before the returned function is called. */
export function onExit(fn) {
  exitCleanups.add(fn);
  return () => exitCleanups.delete(fn);
}

// A process still running when the test file's process exits (Node would leave it running)
// gets a SIGKILL as the last resort; then the clean-ups run.
function cleanUp() {
  for (const child of children) {
    try {
      child.kill('SIGKILL');
    } catch {
      // already gone
    }
  }
  for (const fn of exitCleanups) {
    try {
      fn();
    } catch {
      // best effort
    }
  }
}
process.on('exit', cleanUp);
// A test file stopped from outside (the runner's timeout, Ctrl-C) takes its children with it.
for (const [signal, number] of [
  ['SIGINT', 2],
  ['SIGTERM', 15],
]) {
  process.once(signal, () => process.exit(128 + number));
}

function environment(extra) {
  // Nothing from the caller's environment decides which server, key or data the tools use.
  const env = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!k.startsWith('DYAD_')) env[k] = v;
  }
  return { ...env, NO_COLOR: '1', ...extra };
}

/**
 * Starts a long-running process. Its stdout and stderr are always drained (a full pipe would
 * block it) into `child.log`.
 */
export function start(command, args, { env = {}, cwd } = {}) {
  const child = spawn(command, args, {
    cwd,
    env: environment(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.log = '';
  const keep = (chunk) => {
    child.log = (child.log + chunk.toString('utf8')).slice(-LOG_LIMIT);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  child.exited = new Promise((resolve) => {
    child.on('exit', (code, signal) => resolve({ code, signal }));
    child.on('error', (error) => resolve({ code: null, signal: null, error }));
  });
  children.add(child);
  child.exited.then(() => children.delete(child));
  return child;
}

/**
 * Resolves with the first match of `pattern` in the child's combined output; rejects if the
 * child exits first or after `timeoutMs`.
 */
export function waitForOutput(child, pattern, { timeoutMs = 30_000, what = 'output' } = {}) {
  return new Promise((resolve, reject) => {
    let done = false;
    const finish = (fn, value) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      child.stdout.off('data', check);
      child.stderr.off('data', check);
      fn(value);
    };
    const check = () => {
      const m = child.log.match(pattern);
      if (m) finish(resolve, m);
    };
    const timer = setTimeout(
      () => finish(reject, new Error(`no ${what} within ${timeoutMs} ms; output:\n${child.log}`)),
      timeoutMs,
    );
    child.stdout.on('data', check);
    child.stderr.on('data', check);
    child.exited.then(({ code, signal, error }) =>
      finish(
        reject,
        new Error(`exited (code ${code}, signal ${signal}${error ? `, ${error.message}` : ''}) before ${what}; output:\n${child.log}`),
      ),
    );
    check();
  });
}

/** Stops one process: SIGTERM, then SIGKILL if it has not exited within `graceMs`. */
export async function stop(child, graceMs = 5_000) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  let timer;
  const late = new Promise((resolve) => {
    timer = setTimeout(() => resolve('late'), graceMs);
  });
  const outcome = await Promise.race([child.exited, late]);
  clearTimeout(timer);
  if (outcome === 'late') {
    child.kill('SIGKILL');
    await child.exited;
  }
}

/** Stops every process still running. */
export async function stopAll() {
  await Promise.all([...children].map((child) => stop(child)));
}

/**
 * Runs a command to completion (killed after `timeoutMs`) and returns its stdout; rejects with
 * both streams if it exits non-zero.
 */
export async function run(command, args, { env = {}, cwd, timeoutMs = 120_000 } = {}) {
  const child = spawn(command, args, {
    cwd,
    env: environment(env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c) => {
    stdout += c.toString('utf8');
  });
  child.stderr.on('data', (c) => {
    stderr += c.toString('utf8');
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const { code, signal } = await new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal }));
  }).finally(() => {
    clearTimeout(timer);
    children.delete(child);
  });
  if (code !== 0) {
    const shown = args.map((a) => (a.length > 200 ? `${a.slice(0, 200)}…` : a)).join(' ');
    const err = new Error(
      `${command} ${shown} exited with ${code ?? signal}${signal === 'SIGKILL' ? ` (killed after ${timeoutMs} ms?)` : ''}\nstdout: ${stdout}\nstderr: ${stderr}`,
    );
    err.code = code;
    err.stdout = stdout;
    err.stderr = stderr;
    throw err;
  }
  return stdout;
}

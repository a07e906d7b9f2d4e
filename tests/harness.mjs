// What the Node test scripts share (tests/browser/e2e.mjs,
// tests/browser/pases.mjs, tests/interop/interop.mjs): the `ok`/`FAIL`
// lines and the closing count, and starting and stopping a real buzon on
// a free loopback port with its own data directory. No npm packages: each
// script's own node_modules stays its own.

import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

const started = Date.now();
let passed = 0;
let failed = 0;

/** Prints one check; returns `ok`. */
export function check(name, ok, detail = '') {
  if (ok) {
    passed += 1;
    console.log(`ok    ${name}`);
  } else {
    failed += 1;
    console.log(`FAIL  ${name}${detail ? `: ${detail}` : ''}`);
  }
  return ok;
}

/** How many checks have failed so far. */
export function failures() {
  return failed;
}

/** An observation that is not a failure. */
export function note(text) {
  console.log(`note  ${text}`);
}

/** Prints the runtime and `N passed, M failed`; sets the exit code. */
export function finish(code) {
  const secs = ((Date.now() - started) / 1000).toFixed(1);
  console.log(`runtime ${secs} s`);
  console.log(`${passed} passed, ${failed} failed`);
  process.exitCode = code ?? (failed > 0 ? 1 : 0);
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

/** The environment without a BUZON_DATA that would redirect the binary. */
export function cleanEnv() {
  const env = { ...process.env };
  delete env.BUZON_DATA;
  return env;
}

/** Starts `buzon serve --demo`; resolves with { proc, base, log, answered, dataDir, exited } once it answers (or 30 s pass). */
export async function startServer(binary, dataDir) {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const proc = spawn(binary, ['serve', '--demo', '--data', dataDir, '--listen', `127.0.0.1:${port}`], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: cleanEnv(),
  });
  const log = { out: '', err: '' };
  proc.stdout.setEncoding('utf8');
  proc.stderr.setEncoding('utf8');
  proc.stdout.on('data', (d) => (log.out += d));
  proc.stderr.on('data', (d) => (log.err += d));
  let exited = null;
  proc.on('exit', (code, signal) => (exited = { code, signal }));
  proc.on('error', (e) => (exited = { error: e.message }));

  const deadline = Date.now() + 30_000;
  let answered = false;
  while (!exited && Date.now() < deadline) {
    try {
      const r = await fetch(`${base}/`, { signal: AbortSignal.timeout(2000) });
      await r.arrayBuffer();
      answered = r.ok;
      if (answered) break;
    } catch {
      // not yet
    }
    await sleep(100);
  }
  return { proc, base, log, answered, dataDir, exited: () => exited };
}

/** SIGTERM, then SIGKILL after 5 s. */
export async function stopServer(server) {
  if (!server || server.exited()) return;
  server.proc.kill('SIGTERM');
  for (let i = 0; i < 50 && !server.exited(); i++) await sleep(100);
  if (!server.exited()) {
    console.log('server did not stop within 5 s of SIGTERM; killing it');
    server.proc.kill('SIGKILL');
    for (let i = 0; i < 20 && !server.exited(); i++) await sleep(100);
  }
}

/** Runs `buzon --data DIR ...args` once; resolves with { code, out, err }. */
export function runCli(binary, dataDir, args, timeoutMs = 30_000) {
  return new Promise((resolve) => {
    const p = spawn(binary, ['--data', dataDir, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: cleanEnv() });
    let out = '';
    let err = '';
    p.stdout.setEncoding('utf8');
    p.stderr.setEncoding('utf8');
    p.stdout.on('data', (d) => (out += d));
    p.stderr.on('data', (d) => (err += d));
    const timer = setTimeout(() => p.kill('SIGKILL'), timeoutMs);
    p.on('error', (e) => {
      clearTimeout(timer);
      resolve({ code: -1, out, err: err + e.message });
    });
    p.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? `signal ${signal}`, out, err });
    });
  });
}

/** The buzon binary named by the first argument; exits 2 without it. */
export function binaryFromArgs(script) {
  const arg = process.argv[2];
  if (!arg) {
    console.error(`usage: node ${script} path/to/buzon-binary`);
    process.exit(2);
  }
  const binary = path.resolve(arg);
  if (!existsSync(binary)) {
    console.error(`buzon binary not found: ${binary} (build it with: cargo build --release)`);
    process.exit(2);
  }
  return binary;
}

/** Debian's Chromium (or $CHROMIUM). Missing: a failure under CI=true,
 * else the script is skipped. */
export function chromiumPath() {
  const chromium = process.env.CHROMIUM || '/usr/bin/chromium';
  if (!existsSync(chromium)) {
    if (process.env.CI === 'true') {
      console.log(
        `chromium not found at ${chromium} (set CHROMIUM or install Debian's chromium); ` +
          'CI=true, so this is a failure',
      );
      console.log('0 passed, 1 failed');
      process.exit(1);
    }
    console.log('skipped: chromium not installed');
    process.exit(0);
  }
  return chromium;
}

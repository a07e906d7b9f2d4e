// Checks the built src/web/assets/pases.js in headless Chromium against a
// small stand-in issuer (privacypass-ts's own Issuer), without buzon:
//
//   sh web/pases/build.sh && npm ci --prefix tests/browser
//   node web/pases/check.mjs
//
// The stand-in serves a page with the markup the server writes for
// /e/{slug}/pases under the same CSP (script-src 'self'; connect-src
// 'self'), the entity's token challenge, the issuer directory and
// /api/v1/token-request. The browser gets tokens with a code, and the
// stand-in verifies each with its private key; then a code that runs out
// midway (the tokens got so far stay, the issuer's message is shown) and
// an unknown code. Every request the page makes is recorded: only the
// expected ones, to the page's origin, no CSP report, no console message.
//
// Prints one line per check and ends with `N passed, M failed`; exits
// non-zero on any failure.

import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '../..');
const BUNDLE = path.join(ROOT, 'src/web/assets/pases.js');
const started = Date.now();

let passed = 0;
let failed = 0;
function check(name, ok, detail = '') {
  if (ok) {
    passed += 1;
    console.log(`ok    ${name}`);
  } else {
    failed += 1;
    console.log(`FAIL  ${name}${detail ? `: ${detail}` : ''}`);
  }
  return ok;
}
function finish() {
  console.log(`runtime ${((Date.now() - started) / 1000).toFixed(1)} s`);
  console.log(`${passed} passed, ${failed} failed`);
  process.exitCode = failed > 0 ? 1 : 0;
}

const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
if (!existsSync(CHROMIUM)) {
  if (process.env.CI === 'true') {
    console.log(`FAIL  chromium not found at ${CHROMIUM}; CI=true, so this is a failure`);
    console.log('0 passed, 1 failed');
    process.exit(1);
  }
  console.log('skipped: chromium not installed');
  process.exit(0);
}
if (!existsSync(BUNDLE)) {
  console.log(`FAIL  ${path.relative(process.cwd(), BUNDLE)} is missing (run: sh web/pases/build.sh)`);
  console.log('0 passed, 1 failed');
  process.exit(1);
}
let chromium, pp, base64url;
try {
  ({ chromium } = await import(path.join(ROOT, 'tests/browser/node_modules/playwright-core/index.mjs')));
  ({ base64url } = await import('rfc4648'));
  const { Oprf } = await import('@cloudflare/voprf-ts');
  const { CryptoNoble } = await import('@cloudflare/voprf-ts/crypto-noble');
  Oprf.Crypto = CryptoNoble;
  pp = await import('@cloudflare/privacypass-ts');
} catch (e) {
  console.log(`FAIL  a package is missing (run: npm ci --prefix web/pases && npm ci --prefix tests/browser): ${e.message}`);
  console.log('0 passed, 1 failed');
  process.exit(1);
}
const { privateVerif, TokenChallenge, Token, TOKEN_TYPES } = pp;

// ------------------------------------------------------------------ stand-in issuer

const SLUG = 'demo';
const { privateKey, publicKey } = await privateVerif.keyGen();
const issuer = new privateVerif.Issuer('buzon.test', privateKey, publicKey);
const challengeBytes = new TokenChallenge(1, 'buzon.test', new Uint8Array(0), [SLUG]).serialize();
const codes = new Map([
  ['ABCD-EFGH-JKMN-PQRS', 5],
  ['TWO0-TOKE-NSON-LY22', 2],
]);
const seen = [];

const PAGE = `<!doctype html><html lang="es"><head><meta charset="utf-8"><title>Pases</title></head><body>
<form id="pases" data-challenge-url="/api/v1/entities/${SLUG}/token-challenge"
 data-directory-url="/.well-known/private-token-issuer-directory"
 data-msg-working="Pidiendo pases: {done} de {count}…" data-msg-done="Listo: {count} pases." data-msg-failed="No se pudo: {message}">
<label>Código <input id="pases-code" name="code"></label>
<label>Cuántos <input id="pases-count" name="count" type="number" min="1" max="5" value="3"></label>
<button type="submit">Pedir pases</button>
</form>
<p id="pases-status" role="status"></p>
<textarea id="pases-out" readonly></textarea>
<script src="/static/pases.js"></script>
</body></html>`;
const CSP = "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

function send(res, status, type, body, headers = {}) {
  res.writeHead(status, { 'Content-Type': type, 'Content-Security-Policy': CSP, ...headers });
  res.end(body);
}
function jsonError(res, status, code, message) {
  send(res, status, 'application/json', JSON.stringify({ error: { code, message } }));
}

async function handle(req, res) {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  const body = new Uint8Array(Buffer.concat(chunks));
  const p = new URL(req.url, 'http://x').pathname;
  seen.push({ method: req.method, path: p, cookie: req.headers.cookie, referer: req.headers.referer });
  if (req.method === 'GET' && p === `/e/${SLUG}/pases`) {
    return send(res, 200, 'text/html; charset=utf-8', PAGE, { 'Set-Cookie': 'buzon_session=abc; Path=/; HttpOnly; SameSite=Strict' });
  }
  if (req.method === 'GET' && p === '/static/pases.js') return send(res, 200, 'text/javascript', await fs.readFile(BUNDLE));
  if (req.method === 'GET' && p === `/api/v1/entities/${SLUG}/token-challenge`) {
    const c = { 'token-type': 1, challenge: base64url.stringify(challengeBytes), 'token-key': base64url.stringify(publicKey), 'max-age': 600 };
    return send(res, 200, 'application/json', JSON.stringify({ entity: SLUG, policy: 'token', challenges: [c] }));
  }
  if (req.method === 'GET' && p === '/.well-known/private-token-issuer-directory') {
    return send(
      res,
      200,
      'application/private-token-issuer-directory',
      JSON.stringify({
        'issuer-request-uri': '/api/v1/token-request',
        'token-keys': [{ 'token-type': 1, 'token-key': base64url.stringify(publicKey), 'not-before': 0, 'buzon-scope': SLUG }],
      }),
    );
  }
  if (req.method === 'POST' && p === '/api/v1/token-request') {
    if (req.headers['content-type'] !== 'application/private-token-request') return jsonError(res, 415, 'wrong_content_type', 'Tipo de contenido equivocado.');
    const code = req.headers['buzon-issuance-code'];
    if (!code) return jsonError(res, 401, 'code_missing', 'Falta el código.');
    if (!codes.has(code)) return jsonError(res, 403, 'code_unknown', 'Ese código no existe.');
    if (codes.get(code) <= 0) return jsonError(res, 429, 'code_exhausted', 'Ese código ya se usó por completo.');
    codes.set(code, codes.get(code) - 1);
    const out = await issuer.issue(privateVerif.TokenRequest.deserialize(body));
    return send(res, 200, 'application/private-token-response', Buffer.from(out.serialize()));
  }
  send(res, 404, 'text/plain', 'not found');
}

const server = http.createServer((req, res) => handle(req, res).catch((e) => send(res, 500, 'text/plain', String(e))));
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const base = `http://127.0.0.1:${server.address().port}`;

// ------------------------------------------------------------------ browser

let browser;
try {
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update'],
  });
  const ctx = await browser.newContext();
  const page = await ctx.newPage();
  const problems = [];
  const requests = [];
  page.on('console', (m) => problems.push(`console.${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  page.on('request', (r) => requests.push({ url: r.url(), method: r.method(), headers: r.headers() }));
  await page.goto(`${base}/e/${SLUG}/pases`);
  const status = page.locator('#pases-status');
  const out = page.locator('#pases-out');

  // 1. Three tokens with a good code.
  await page.fill('#pases-code', ' abcd-efgh-jkmn-pqrs ');
  await page.fill('#pases-count', '3');
  await page.click('button[type=submit]');
  await page.waitForFunction(() => /Listo|No se pudo/.test(document.getElementById('pases-status').textContent), null, { timeout: 60_000 });
  check('three tokens: status shows the done message with the count', (await status.textContent()) === 'Listo: 3 pases.', await status.textContent());
  let lines = (await out.inputValue()).split('\n').filter(Boolean);
  check('three tokens: three lines in #pases-out', lines.length === 3, JSON.stringify(lines));
  let valid = 0;
  for (const l of lines) {
    try {
      const t = Token.deserialize(TOKEN_TYPES.VOPRF, base64url.parse(l));
      const digestOk = Buffer.from(t.authInput.challengeDigest).equals(Buffer.from(await crypto.subtle.digest('SHA-256', challengeBytes)));
      if (digestOk && (await issuer.verify(t))) valid += 1;
    } catch {
      // invalid
    }
  }
  check('three tokens: each is base64url (padded), binds the challenge and verifies with the issuer key', valid === 3, `${valid} of ${lines.length}`);
  check('three tokens: the code was upper-cased and trimmed (5 − 3 = 2 left)', codes.get('ABCD-EFGH-JKMN-PQRS') === 2);

  // 2. A code for 2 tokens asked for 5: two tokens kept, issuer message shown.
  await page.fill('#pases-code', 'TWO0-TOKE-NSON-LY22');
  await page.fill('#pases-count', '5');
  await page.click('button[type=submit]');
  await page.waitForFunction(() => /Listo|No se pudo/.test(document.getElementById('pases-status').textContent), null, { timeout: 60_000 });
  check(
    'code runs out: the issuer JSON message is shown through data-msg-failed',
    (await status.textContent()) === 'No se pudo: Ese código ya se usó por completo.',
    await status.textContent(),
  );
  lines = (await out.inputValue()).split('\n').filter(Boolean);
  check('code runs out: the two tokens got are added below the first three', lines.length === 5, `${lines.length} lines`);

  // 3. Unknown code.
  await page.fill('#pases-code', 'ZZZZ-ZZZZ-ZZZZ-ZZZZ');
  await page.fill('#pases-count', '1');
  await page.click('button[type=submit]');
  await page.waitForFunction(() => /Listo|No se pudo/.test(document.getElementById('pases-status').textContent) && !document.getElementById('pases').hasAttribute('aria-busy'), null, { timeout: 60_000 });
  check('unknown code: message shown', (await status.textContent()) === 'No se pudo: Ese código no existe.', await status.textContent());
  check('the button is enabled again', await page.locator('button[type=submit]').isEnabled());

  // The network, as the page saw it.
  const foreign = requests.filter((r) => new URL(r.url).origin !== base);
  check('every request went to the page origin', foreign.length === 0, foreign.map((r) => r.url).join(' '));
  const kinds = new Set(requests.map((r) => `${r.method} ${new URL(r.url).pathname}`));
  const allowed = new Set([
    `GET /e/${SLUG}/pases`,
    'GET /static/pases.js',
    `GET /api/v1/entities/${SLUG}/token-challenge`,
    'GET /.well-known/private-token-issuer-directory',
    'POST /api/v1/token-request',
    'GET /favicon.ico',
  ]);
  check('only the expected requests were made', [...kinds].every((k) => allowed.has(k)), [...kinds].join(', '));
  const posts = seen.filter((s) => s.method === 'POST');
  check(
    "harness: the browser does send the cookie with the page's own script request",
    seen.some((s) => s.path === '/static/pases.js' && /buzon_session=abc/.test(s.cookie || '')),
  );
  const fetched = seen.filter((s) => s.method === 'POST' || s.path.startsWith('/api/') || s.path.startsWith('/.well-known/'));
  check(
    "the script's requests carry no cookie and no referrer (the page set a cookie)",
    posts.length > 0 && fetched.every((s) => !s.cookie && !s.referer),
    JSON.stringify(fetched.slice(0, 2)),
  );
  // Chromium logs every 4xx answer to fetch; the two refusals above are expected.
  const expected = /^console\.error: Failed to load resource: the server responded with a status of (403|429|404)\b/;
  const unexpected = problems.filter((p) => !expected.test(p));
  check('no other console message, page error or CSP violation', unexpected.length === 0, unexpected.join('; '));
  await ctx.close();
} catch (e) {
  check('browser check completed', false, e.stack || String(e));
} finally {
  if (browser) await browser.close().catch(() => {});
  server.close();
  server.closeAllConnections?.();
}
finish();

// Privacy Pass interoperability test of buzon, with an independent client.
//
//   npm ci --prefix tests/interop
//   node tests/interop/interop.mjs path/to/buzon-binary
//
// Starts `buzon serve --demo` on a free loopback port with a fresh data
// directory and plays the client side of Privacy Pass with Cloudflare's
// @cloudflare/privacypass-ts (never buzon's own code): reads the issuer
// directory (RFC 9578) and the entity's token challenge (RFC 9577, JSON and
// WWW-Authenticate, the header parsed by the library's own parser), asks
// buzon's issuer for tokens of type 1 (VOPRF P-384, privately verifiable)
// and type 2 (blind RSA 2048, publicly verifiable) with an issuance code,
// finalises them (the library checks the DLEQ proof and the RSA signature)
// and spends them on the reporter form: once (accepted), twice (refused as
// spent), at another entity (refused as wrong entity), with no token (401
// and a challenge), with garbage (malformed) and forged (refused); it makes
// an issuance code run out, checks the issuer's JSON errors, and sends 64
// concurrent spends of one token three times (exactly one may succeed).
//
// Prints one line per check and ends with `N passed, M failed`; exits
// non-zero on any failure. The server is always stopped.
//
// ---------------------------------------------------------------------------
// ASSUMPTIONS about the server contract (written while the server was still
// being built; where the contract was silent this script had to pick):
//
//  A1. Every base64url value the server sends (directory token-key,
//      challenge, token-key in JSON and in WWW-Authenticate) is padded with
//      `=`: privacypass-ts's decoder (rfc4648, strict) throws "Invalid
//      padding" on unpadded values whose length is not a multiple of 4.
//  A2. Tokens are sent as the library encodes them: base64url WITH padding
//      (a type 1 token is 146 bytes, so it ends in one `=`), in the form
//      field `token` exactly as in the header `Authorization: PrivateToken
//      token=<b64url>` (unquoted, as AuthorizationHeader.toString() makes).
//  A3. One issuance code of an entity can be spent on token requests of both
//      token types (1 and 2); the type is told by the TokenRequest itself.
//  A4. TokenRequests that the issuer refuses (code_missing, code_unknown,
//      wrong_content_type, request_malformed, key_unknown) do not use up the
//      code's allowance.
//  A5. In the directory, the key a challenge names is the first listed for
//      its entity ("buzon-scope") and token type (the current epoch).
//  A6. The challenge's origin_info has an entry that contains the entity
//      slug; its issuer_name is not empty; the challenge in the JSON and in
//      WWW-Authenticate is the same bytes for each token type.
//  A7. A successful send is a 200 HTML page with `<ol class="receipt">`
//      holding the receipt words; the same `draft` sent again (even with the
//      now spent token) returns the same receipt words with 200.
//  A8. A forged token (valid layout, wrong authenticator) is refused with a
//      4xx page carrying one of the contract's data-error codes (the
//      contract names no code for it).
//  A9. With 64 concurrent spends of one token, the 63 losers each get a 4xx
//      page with data-error="token-spent" (not 409/5xx "busy").
// A10. Issuer errors are 4xx with Content-Type application/json and a
//      non-empty `error.message`.
// A11. `buzon --data DIR token codes ...` prints only the codes on stdout,
//      one per line; other CLI commands exit 0 on success.
// Not tested: token-expired (needs the server's clock to move on).
// ---------------------------------------------------------------------------

import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import * as harness from '../harness.mjs';
import { check, note, finish, sleep, stopServer, runCli } from '../harness.mjs';

// ------------------------------------------------------------------ arguments and prerequisites

const BINARY = harness.binaryFromArgs('tests/interop/interop.mjs');

// privacypass-ts needs Node 20 (WebCrypto as globalThis.crypto, fetch).
const nodeMajor = Number(process.versions.node.split('.')[0]);
if (nodeMajor < 20 || typeof globalThis.crypto?.subtle === 'undefined') {
  if (process.env.CI === 'true') {
    console.log(`FAIL  node ${process.versions.node} is too old (need 20 or later); CI=true, so this is a failure`);
    console.log('0 passed, 1 failed');
    process.exit(1);
  }
  console.log(`skipped: node ${process.versions.node} is too old (need 20 or later)`);
  process.exit(0);
}

let pp;
let base64url;
let cryptoBackend = 'sjcl';
try {
  // The noble P-384 backend is several times faster than the default
  // (sjcl). privacypass-ts picks its VOPRF group when its module is first
  // evaluated, so the provider must be set before it is imported.
  const { Oprf } = await import('@cloudflare/voprf-ts');
  const { CryptoNoble } = await import('@cloudflare/voprf-ts/crypto-noble');
  Oprf.Crypto = CryptoNoble;
  pp = await import('@cloudflare/privacypass-ts');
  ({ base64url } = await import('rfc4648'));
  cryptoBackend = pp.privateVerif.VOPRF.group.constructor.name === 'GroupNb' ? 'noble' : 'sjcl';
} catch (e) {
  console.log(
    `FAIL  @cloudflare/privacypass-ts is not installed (run: npm ci --prefix tests/interop): ${e.message}`,
  );
  console.log('0 passed, 1 failed');
  process.exit(1);
}
const {
  AuthorizationHeader,
  MediaType,
  Token,
  TokenChallenge,
  TOKEN_TYPES,
  WWWAuthenticateHeader,
  privateVerif,
  publicVerif,
  sendTokenRequest,
} = pp;

// ------------------------------------------------------------------ small helpers

const TIMEOUT_MS = 60_000; // one HTTP request
const WATCHDOG_MS = 10 * 60_000; // the whole run

/** Strict base64url decoding, as privacypass-ts does it (padding required). */
function b64d(s) {
  return base64url.parse(s);
}
/** base64url with padding, as privacypass-ts encodes. */
function b64e(bytes) {
  return base64url.stringify(bytes);
}
function tryB64d(s) {
  try {
    return { bytes: b64d(s) };
  } catch (e) {
    return { error: e.message };
  }
}
function eqBytes(a, b) {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
function fresh(bytes) {
  // privacypass-ts's deserialisers read `bytes.buffer` from offset 0:
  // always give them a Uint8Array that owns its whole buffer.
  return Uint8Array.from(bytes);
}
const draftId = () => randomBytes(16).toString('hex');
const short = (s, n = 300) => (s.length > n ? `${s.slice(0, n)}…` : s);
const typeName = (t) => (t === 1 ? 'type 1 (VOPRF)' : t === 2 ? 'type 2 (blind RSA)' : `type ${t}`);

async function sha256(bytes) {
  return new Uint8Array(await crypto.subtle.digest('SHA-256', bytes));
}

/** Attributes of every `<input ...>` tag of an HTML page. */
function inputs(html) {
  const out = [];
  for (const m of html.matchAll(/<input\b([^>]*)>/gi)) {
    const attrs = {};
    for (const a of m[1].matchAll(/([a-zA-Z_:][-a-zA-Z0-9_:.]*)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s"'=<>`]+)))?/g)) {
      attrs[a[1].toLowerCase()] = a[2] ?? a[3] ?? a[4] ?? '';
    }
    out.push(attrs);
  }
  return out;
}

function dataErrors(html) {
  return [...html.matchAll(/data-error\s*=\s*"([^"]*)"/g)].map((m) => m[1]);
}

function receiptWords(html) {
  const m = /<ol\b[^>]*class="[^"]*\breceipt\b[^"]*"[^>]*>([\s\S]*?)<\/ol>/i.exec(html);
  if (!m) return null;
  return [...m[1].matchAll(/<li\b[^>]*>([\s\S]*?)<\/li>/gi)].map((x) => x[1].trim());
}

// ------------------------------------------------------------------ server and CLI

/** Starts the server (tests/harness.mjs). */
const startServer = (dataDir) => harness.startServer(BINARY, dataDir);
const cli = (dataDir, args) => runCli(BINARY, dataDir, args);

async function cliOk(dataDir, args) {
  const r = await cli(dataDir, args);
  check(`cli: buzon ${args.join(' ')}`, r.code === 0, `exit ${r.code}; stderr ${JSON.stringify(short(r.err))}`);
  return r;
}

/** Issues codes for an entity; returns the list (checked). */
async function codes(dataDir, entity, count, perCode) {
  const r = await cliOk(dataDir, [
    'token',
    'codes',
    '--entity',
    entity,
    '--count',
    String(count),
    '--tokens-per-code',
    String(perCode),
  ]);
  const lines = r.out
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
  check(
    `cli: ${count} code(s) for ${entity} printed one per line, like ABCD-EFGH-JKMN-PQRS`,
    lines.length === count && lines.every((l) => /^[A-Z0-9]{4}(-[A-Z0-9]{4}){3}$/.test(l)),
    JSON.stringify(short(r.out)),
  );
  return lines;
}

// ------------------------------------------------------------------ HTTP

async function get(url, headers = {}) {
  const r = await fetch(url, { headers, redirect: 'manual', signal: AbortSignal.timeout(TIMEOUT_MS) });
  const text = await r.text();
  return { status: r.status, headers: r.headers, text };
}

/** POSTs raw bytes to the issuer; returns status, type, body bytes and JSON (if any). */
async function postTokenRequest(url, bytes, { code, contentType = MediaType.PRIVATE_TOKEN_REQUEST } = {}) {
  const headers = { Accept: MediaType.PRIVATE_TOKEN_RESPONSE };
  if (contentType !== null) headers['Content-Type'] = contentType;
  if (code !== undefined) headers['Buzon-Issuance-Code'] = code;
  const r = await fetch(url, {
    method: 'POST',
    headers,
    body: bytes,
    redirect: 'manual',
    signal: AbortSignal.timeout(TIMEOUT_MS),
  });
  const body = new Uint8Array(await r.arrayBuffer());
  const type = r.headers.get('content-type') || '';
  let json = null;
  try {
    json = JSON.parse(new TextDecoder().decode(body));
  } catch {
    // not JSON
  }
  return { status: r.status, type, body, json };
}

function checkIssuerError(label, r, code) {
  const got = r.json?.error?.code;
  check(
    `issuer: ${label} → 4xx JSON error "${code}"`,
    r.status >= 400 && r.status < 500 && got === code,
    `status ${r.status}, content-type ${JSON.stringify(r.type)}, body ${JSON.stringify(short(new TextDecoder().decode(r.body)))}`,
  );
  check(
    `issuer: the "${code}" error is application/json with a human message`,
    /^application\/json\b/i.test(r.type) && typeof r.json?.error?.message === 'string' && r.json.error.message.length > 0,
    `content-type ${JSON.stringify(r.type)}, message ${JSON.stringify(r.json?.error?.message)}`,
  );
}

/** A fresh privacypass-ts client for a token type. */
function newClient(tokenType) {
  if (tokenType === 1) return new privateVerif.Client();
  if (tokenType === 2) return new publicVerif.Client(publicVerif.BlindRSAMode.PSS);
  throw new Error(`no client for token type ${tokenType}`);
}

/**
 * Obtains one token from buzon's issuer through the library's own
 * sendTokenRequest (which insists on status 200 and the exact Content-Type
 * application/private-token-response). Throws on any failure.
 */
async function obtainToken(issuerUrl, ch, code) {
  const client = newClient(ch.tokenType);
  const req = await client.createTokenRequest(ch.challenge, ch.tokenKey);
  const resBytes = await sendTokenRequest(req.serialize(), issuerUrl, new Headers({ 'Buzon-Issuance-Code': code }));
  const res = client.deserializeTokenResponse(fresh(resBytes));
  const token = await client.finalize(res); // checks the DLEQ proof / RSA signature
  return token;
}

/** The reporter form's reader ids for an entity. */
async function readersOf(base, slug) {
  const r = await get(`${base}/e/${slug}`);
  const ids = inputs(r.text)
    .filter((a) => a.name === 'reader' && a.value)
    .map((a) => a.value);
  check(`form: GET /e/${slug} answers 200 with reader checkboxes`, r.status === 200 && ids.length > 0, `status ${r.status}, ${ids.length} readers`);
  return ids;
}

/**
 * Sends the reporter form. `via`: 'form' (field token), 'header'
 * (Authorization: PrivateToken token=...), 'none'. `token` is a Token
 * object or a raw string (sent as is).
 */
async function spend(base, slug, readers, { token, via, draft = draftId(), message }) {
  const encoded = token === undefined ? undefined : typeof token === 'string' ? token : b64e(token.serialize());
  const fd = new FormData();
  fd.append('draft', draft);
  if (via === 'form') fd.append('token', encoded);
  fd.append('kind', 'question');
  fd.append('message', message ?? `Prueba de interoperabilidad Privacy Pass ${draft}.`);
  for (const r of readers) fd.append('reader', r);
  const headers = {};
  if (via === 'header') {
    headers.Authorization =
      typeof token === 'string' ? `PrivateToken token=${token}` : new AuthorizationHeader(token).toString();
  }
  const r = await fetch(`${base}/e/${slug}/enviar`, {
    method: 'POST',
    headers,
    body: fd,
    redirect: 'manual',
    signal: AbortSignal.timeout(TIMEOUT_MS),
  });
  const text = await r.text();
  return { status: r.status, headers: r.headers, text, draft, errors: dataErrors(text), words: receiptWords(text) };
}

function checkAccepted(label, r) {
  return check(
    `spend: ${label} → 200 receipt page`,
    r.status === 200 && Array.isArray(r.words) && r.words.length > 0 && r.errors.length === 0,
    `status ${r.status}, data-error ${JSON.stringify(r.errors)}, receipt ${JSON.stringify(r.words)}; ${JSON.stringify(short(r.text))}`,
  );
}

function checkRefused(label, r, code) {
  return check(
    `spend: ${label} → 4xx with data-error="${code}"`,
    r.status >= 400 && r.status < 500 && r.errors.includes(code) && r.words === null,
    `status ${r.status}, data-error ${JSON.stringify(r.errors)}; ${JSON.stringify(short(r.text))}`,
  );
}

// ------------------------------------------------------------------ the protocol checks

/** Reads the issuer directory; returns { issuerUrl, keys }. */
async function readDirectory(base, label) {
  const r = await get(`${base}${pp.PRIVATE_TOKEN_ISSUER_DIRECTORY}`);
  const type = r.headers.get('content-type') || '';
  check(`directory${label}: 200`, r.status === 200, `status ${r.status}`);
  check(
    `directory${label}: Content-Type ${MediaType.PRIVATE_TOKEN_ISSUER_DIRECTORY}`,
    type.split(';')[0].trim().toLowerCase() === MediaType.PRIVATE_TOKEN_ISSUER_DIRECTORY,
    JSON.stringify(type),
  );
  let dir = null;
  try {
    dir = JSON.parse(r.text);
  } catch (e) {
    check(`directory${label}: body is JSON`, false, `${e.message}: ${JSON.stringify(short(r.text))}`);
    return null;
  }
  const uri = dir['issuer-request-uri'];
  check(`directory${label}: issuer-request-uri is /api/v1/token-request`, uri === '/api/v1/token-request', JSON.stringify(uri));
  const keys = Array.isArray(dir['token-keys']) ? dir['token-keys'] : [];
  check(`directory${label}: token-keys is a non-empty list`, keys.length > 0, JSON.stringify(short(JSON.stringify(dir))));
  const bad = [];
  for (const k of keys) {
    const d = tryB64d(String(k['token-key']));
    if (!(k['token-type'] === 1 || k['token-type'] === 2)) bad.push(`token-type ${JSON.stringify(k['token-type'])}`);
    if (d.error) bad.push(`token-key ${JSON.stringify(short(String(k['token-key']), 40))}: ${d.error}`);
    else if (k['token-type'] === 1 && d.bytes.length !== 49) bad.push(`type 1 key of ${d.bytes.length} bytes (want 49)`);
    if (!Number.isInteger(k['not-before'])) bad.push(`not-before ${JSON.stringify(k['not-before'])}`);
    if (typeof k['buzon-scope'] !== 'string' || !k['buzon-scope']) bad.push(`buzon-scope ${JSON.stringify(k['buzon-scope'])}`);
  }
  check(
    `directory${label}: every key has token-type 1|2, a padded base64url token-key (strict decoder), integer not-before, buzon-scope`,
    bad.length === 0,
    bad.slice(0, 5).join('; '),
  );
  return { issuerUrl: new URL(uri ?? '/api/v1/token-request', base).href, keys };
}

function keysFor(dir, slug, tokenType) {
  return dir.keys.filter((k) => k['buzon-scope'] === slug && k['token-type'] === tokenType);
}

/**
 * Reads an entity's token challenge (JSON and header); returns
 * { policy, byType: {1: ch, 2: ch} } where ch = { tokenType, challenge
 * (TokenChallenge), challengeBytes, tokenKey, maxAge }.
 */
async function readChallenge(base, slug, dir, wantPolicy) {
  const r = await get(`${base}/api/v1/entities/${slug}/token-challenge`);
  check(`challenge ${slug}: 200`, r.status === 200, `status ${r.status}: ${JSON.stringify(short(r.text))}`);
  let body = null;
  try {
    body = JSON.parse(r.text);
  } catch (e) {
    check(`challenge ${slug}: body is JSON`, false, e.message);
    return null;
  }
  check(`challenge ${slug}: entity is "${slug}"`, body.entity === slug, JSON.stringify(body.entity));
  check(`challenge ${slug}: policy is "${wantPolicy}"`, body.policy === wantPolicy, JSON.stringify(body.policy));

  // The header, through privacypass-ts's own parser.
  const header = r.headers.get('www-authenticate') || '';
  let parsed = [];
  try {
    parsed = WWWAuthenticateHeader.parse(header);
  } catch (e) {
    parsed = [];
    check(`challenge ${slug}: WWW-Authenticate parses with privacypass-ts`, false, `${e.message}: ${JSON.stringify(short(header))}`);
  }
  check(
    `challenge ${slug}: WWW-Authenticate holds a PrivateToken challenge for types 1 and 2 (privacypass-ts parser)`,
    parsed.some((p) => p.challenge.tokenType === 1) && parsed.some((p) => p.challenge.tokenType === 2),
    `${parsed.length} parsed from ${JSON.stringify(short(header))}`,
  );

  const byType = {};
  for (const tokenType of [1, 2]) {
    const what = `challenge ${slug} ${typeName(tokenType)}`;
    const j = (Array.isArray(body.challenges) ? body.challenges : []).find((c) => c['token-type'] === tokenType);
    if (!check(`${what}: present in the JSON`, !!j, JSON.stringify(short(r.text)))) continue;
    const cd = tryB64d(String(j.challenge));
    const kd = tryB64d(String(j['token-key']));
    if (!check(`${what}: challenge and token-key are padded base64url`, !cd.error && !kd.error, `${cd.error ?? ''} ${kd.error ?? ''}`))
      continue;
    let chl;
    try {
      chl = TokenChallenge.deserialize(fresh(cd.bytes));
    } catch (e) {
      check(`${what}: TokenChallenge deserialises`, false, e.message);
      continue;
    }
    check(
      `${what}: TokenChallenge re-serialises to the same bytes`,
      eqBytes(chl.serialize(), cd.bytes),
      `${b64e(chl.serialize())} vs ${j.challenge}`,
    );
    check(`${what}: token_type in the TokenChallenge is ${tokenType}`, chl.tokenType === tokenType, String(chl.tokenType));
    check(`${what}: issuer_name is not empty`, chl.issuerName.length > 0, JSON.stringify(chl.issuerName));
    check(`${what}: redemption_context is empty`, chl.redemptionContext.length === 0, `${chl.redemptionContext.length} bytes`);
    check(
      `${what}: origin_info names the entity`,
      (chl.originInfo ?? []).some((o) => o.includes(slug)),
      JSON.stringify(chl.originInfo),
    );
    const maxAge = j['max-age'];
    check(`${what}: max-age is a positive integer`, Number.isInteger(maxAge) && maxAge > 0, JSON.stringify(maxAge));
    const h = parsed.find((p) => p.challenge.tokenType === tokenType);
    if (h) {
      check(
        `${what}: WWW-Authenticate carries the same challenge, token-key and max-age as the JSON`,
        eqBytes(h.challenge.serialize(), cd.bytes) && eqBytes(h.tokenKey, kd.bytes) && h.maxAge === maxAge,
        `header max-age ${h.maxAge}`,
      );
    }
    if (dir) {
      const listed = keysFor(dir, slug, tokenType);
      check(
        `${what}: its token-key is the first (current) ${typeName(tokenType)} key of ${slug} in the directory`,
        listed.length > 0 && eqBytes(tryB64d(String(listed[0]['token-key'])).bytes ?? [], kd.bytes),
        `${listed.length} keys listed; position ${listed.findIndex((k) => k['token-key'] === j['token-key'])}`,
      );
    }
    byType[tokenType] = { tokenType, challenge: chl, challengeBytes: cd.bytes, tokenKey: kd.bytes, maxAge };
  }
  return { policy: body.policy, byType, header };
}

/** A type-1 TokenRequest against a key that is none of the server's. */
async function requestForUnknownKey(chl, dir) {
  const known = new Set();
  for (const k of dir.keys) {
    const d = tryB64d(String(k['token-key']));
    if (d.bytes) known.add((await sha256(d.bytes))[31]);
  }
  for (let i = 0; i < 64; i++) {
    const { publicKey } = await privateVerif.keyGen();
    if (known.has((await sha256(publicKey))[31])) continue;
    const req = await new privateVerif.Client().createTokenRequest(chl, publicKey);
    return req.serialize();
  }
  throw new Error('could not make a key whose truncated id differs from all of the server keys');
}

/** A token with the right layout and a wrong authenticator. */
function forge(token, tokenType) {
  const bytes = fresh(token.serialize());
  bytes[bytes.length - 1] ^= 0x01;
  const entry = tokenType === 1 ? TOKEN_TYPES.VOPRF : TOKEN_TYPES.BLIND_RSA;
  return Token.deserialize(entry, bytes);
}

/** 64 concurrent spends of one token, each with its own draft. */
async function race(base, slug, readers, token, round) {
  const N = 64;
  const jobs = [];
  for (let i = 0; i < N; i++) {
    const via = i % 2 === 0 ? 'form' : 'header';
    jobs.push(
      spend(base, slug, readers, { token, via, message: `Carrera ${round}, envío ${i}.` }).catch((e) => ({
        status: 'error',
        errors: [],
        words: null,
        text: String(e.message),
      })),
    );
  }
  const results = await Promise.all(jobs);
  const tally = {};
  for (const r of results) {
    const k = `${r.status}${r.errors.length ? ` ${r.errors.join('+')}` : ''}`;
    tally[k] = (tally[k] ?? 0) + 1;
  }
  const ok = results.filter((r) => r.status === 200);
  const spent = results.filter((r) => r.status >= 400 && r.status < 500 && r.errors.includes('token-spent'));
  check(`race ${round}: ${N} concurrent spends of one token → exactly one 200`, ok.length === 1, JSON.stringify(tally));
  check(
    `race ${round}: the other ${N - 1} are refused with data-error="token-spent"`,
    spent.length === N - 1,
    JSON.stringify(tally),
  );
  if (ok.length === 1) check(`race ${round}: the winner carries a receipt`, Array.isArray(ok[0].words) && ok[0].words.length > 0);
}

// ------------------------------------------------------------------ the run

async function run(server, dataDir) {
  const { base } = server;
  note(`privacypass-ts client, P-384 backend: ${cryptoBackend}`);

  // ---------------------------------------------------------- set up
  await cliOk(dataDir, ['token', 'policy', '--entity', 'demo', 'token']);

  // ---------------------------------------------------------- discovery
  const dir = await readDirectory(base, '');
  const demo = await readChallenge(base, 'demo', dir, 'token');
  if (!dir) throw new Error('no directory; cannot go on');
  check('directory: lists type 1 and type 2 keys for demo', keysFor(dir, 'demo', 1).length > 0 && keysFor(dir, 'demo', 2).length > 0);
  if (!demo?.byType[1] || !demo?.byType[2]) throw new Error('no usable challenges for demo; cannot go on');

  const [code] = await codes(dataDir, 'demo', 1, 20);
  const [smallCode] = await codes(dataDir, 'demo', 1, 2);
  if (!code || !smallCode) throw new Error('no issuance codes; cannot go on');

  // Type 2 key: importable as RSA-PSS (the library converts the RSASSA-PSS SPKI).
  let rsaKey = null;
  try {
    const spki = publicVerif.convertRSASSAPSSToEnc(demo.byType[2].tokenKey);
    rsaKey = await crypto.subtle.importKey('spki', spki, { name: 'RSA-PSS', hash: 'SHA-384' }, true, ['verify']);
    check('challenge demo type 2: token-key is an RSA SubjectPublicKeyInfo of 2048 bits', rsaKey.algorithm.modulusLength === 2048, String(rsaKey.algorithm.modulusLength));
  } catch (e) {
    check('challenge demo type 2: token-key is an RSA SubjectPublicKeyInfo', false, e.message);
  }

  // ---------------------------------------------------------- issuer errors
  const issuerUrl = dir.issuerUrl;
  const goodReq = (await newClient(1).createTokenRequest(demo.byType[1].challenge, demo.byType[1].tokenKey)).serialize();
  checkIssuerError('no Buzon-Issuance-Code header', await postTokenRequest(issuerUrl, goodReq, {}), 'code_missing');
  checkIssuerError('an unknown code', await postTokenRequest(issuerUrl, goodReq, { code: 'ABCD-EFGH-JKMN-PQRS' }), 'code_unknown');
  checkIssuerError(
    'Content-Type application/octet-stream',
    await postTokenRequest(issuerUrl, goodReq, { code, contentType: 'application/octet-stream' }),
    'wrong_content_type',
  );
  checkIssuerError('a 5-byte body', await postTokenRequest(issuerUrl, Uint8Array.of(0, 1, 7, 7, 7), { code }), 'request_malformed');
  checkIssuerError(
    'a TokenRequest for a key the server does not have',
    await postTokenRequest(issuerUrl, await requestForUnknownKey(demo.byType[1].challenge, dir), { code }),
    'key_unknown',
  );

  // ---------------------------------------------------------- issuance, both types
  const tokens = { 1: [], 2: [] };
  const want = { 1: 5, 2: 3 };
  for (const tokenType of [1, 2]) {
    const t0 = Date.now();
    let error = null;
    for (let i = 0; i < want[tokenType] && !error; i++) {
      try {
        tokens[tokenType].push(await obtainToken(issuerUrl, demo.byType[tokenType], code));
      } catch (e) {
        error = e;
      }
    }
    check(
      `issuer: ${want[tokenType]} ${typeName(tokenType)} tokens issued and finalised by privacypass-ts (200, ${MediaType.PRIVATE_TOKEN_RESPONSE}, proof/signature valid)`,
      tokens[tokenType].length === want[tokenType],
      error ? error.message : '',
    );
    note(`${tokens[tokenType].length} ${typeName(tokenType)} tokens in ${Date.now() - t0} ms`);
  }
  if (tokens[1].length < want[1] || tokens[2].length < want[2]) throw new Error('too few tokens; cannot go on');

  // The raw response of one more request: exact content type and length.
  {
    const client = newClient(1);
    const req = await client.createTokenRequest(demo.byType[1].challenge, demo.byType[1].tokenKey);
    const r = await postTokenRequest(issuerUrl, req.serialize(), { code });
    check(
      `issuer: raw response is exactly "${MediaType.PRIVATE_TOKEN_RESPONSE}", ${privateVerif.VOPRF.Ne + 2 * privateVerif.VOPRF.Ns} bytes for type 1`,
      r.status === 200 && r.type === MediaType.PRIVATE_TOKEN_RESPONSE && r.body.length === 145,
      `status ${r.status}, content-type ${JSON.stringify(r.type)}, ${r.body.length} bytes`,
    );
  }

  // Type 2 tokens verify under the published key (publicly verifiable).
  if (rsaKey) {
    const origin = new publicVerif.Origin(publicVerif.BlindRSAMode.PSS);
    const all = await Promise.all(tokens[2].map((t) => origin.verify(t, rsaKey)));
    check('type 2 tokens verify under the published key (RSASSA-PSS SHA-384, salt 48)', all.every(Boolean), JSON.stringify(all));
  }
  const challengeDigest = await sha256(demo.byType[1].challengeBytes);
  check(
    'type 1 token carries SHA-256 of the demo challenge and SHA-256 of the key as token_key_id',
    eqBytes(tokens[1][0].authInput.challengeDigest, challengeDigest) &&
      eqBytes(tokens[1][0].authInput.tokenKeyId, await sha256(demo.byType[1].tokenKey)),
  );

  const [t1a, t1b, t1c, t1d, t1f] = tokens[1];
  const [t2a, t2b, t2c] = tokens[2];

  // ---------------------------------------------------------- redemption at demo
  const demoReaders = await readersOf(base, 'demo');
  {
    const r = await spend(base, 'demo', demoReaders, { via: 'none' });
    const h = r.headers.get('www-authenticate') || '';
    let parsed = [];
    try {
      parsed = WWWAuthenticateHeader.parse(h);
    } catch (e) {
      note(`WWW-Authenticate of the 401 does not parse: ${e.message}`);
    }
    check('spend: no token → 401', r.status === 401, `status ${r.status}; ${JSON.stringify(short(r.text))}`);
    check(
      'spend: the 401 carries WWW-Authenticate: PrivateToken challenges for demo (privacypass-ts parser)',
      parsed.length > 0 &&
        parsed.some((p) => p.challenge.tokenType === 1) &&
        parsed.every((p) => (p.challenge.originInfo ?? []).some((o) => o.includes('demo'))),
      JSON.stringify(short(h)),
    );
    if (r.errors.length) note(`the 401 page says data-error=${JSON.stringify(r.errors)}`);
  }
  checkRefused('garbage in the form field', await spend(base, 'demo', demoReaders, { token: b64e(randomBytes(40)), via: 'form' }), 'token-malformed');
  checkRefused('not base64url at all, in the header', await spend(base, 'demo', demoReaders, { token: 'no!es*un@token', via: 'header' }), 'token-malformed');
  {
    const r = await spend(base, 'demo', demoReaders, { token: forge(t1f, 1), via: 'form' });
    const known = ['token-missing', 'token-malformed', 'token-wrong-entity', 'token-expired', 'token-spent'];
    check(
      'spend: a forged type 1 token (authenticator changed) is refused with a 4xx data-error page',
      r.status >= 400 && r.status < 500 && r.errors.some((e) => known.includes(e)) && r.words === null,
      `status ${r.status}, data-error ${JSON.stringify(r.errors)}`,
    );
    if (r.errors.length) note(`a forged token is refused as ${JSON.stringify(r.errors)}`);
  }

  // Type 1 through the form field, type 2 through the Authorization header.
  const first1 = await spend(base, 'demo', demoReaders, { token: t1a, via: 'form' });
  checkAccepted('type 1 token in the form field at demo', first1);
  const again1 = await spend(base, 'demo', demoReaders, { token: t1a, via: 'form', draft: first1.draft });
  check(
    'spend: the same draft again → 200 with the same receipt (idempotent, not "spent")',
    again1.status === 200 && JSON.stringify(again1.words) === JSON.stringify(first1.words),
    `status ${again1.status}, data-error ${JSON.stringify(again1.errors)}`,
  );
  checkRefused('the same type 1 token again (fresh draft, in the header)', await spend(base, 'demo', demoReaders, { token: t1a, via: 'header' }), 'token-spent');

  checkAccepted('type 2 token in the Authorization header at demo', await spend(base, 'demo', demoReaders, { token: t2a, via: 'header' }));
  checkRefused('the same type 2 token again (fresh draft, in the form field)', await spend(base, 'demo', demoReaders, { token: t2a, via: 'form' }), 'token-spent');

  // ---------------------------------------------------------- another entity
  await cliOk(dataDir, ['entity', 'add', '--slug', 'otra', '--name', 'Otra', '--complaints-office', 'OIC']);
  await cliOk(dataDir, ['staff', 'add', '--entity', 'otra', '--role', 'coordinator', '--login', 'coord2', '--name', 'Coord 2']);
  await cliOk(dataDir, ['token', 'policy', '--entity', 'otra', 'token']);
  const dir2 = await readDirectory(base, ' (after adding otra)');
  if (dir2) {
    check(
      'directory: now also lists type 1 and type 2 keys for otra',
      keysFor(dir2, 'otra', 1).length > 0 && keysFor(dir2, 'otra', 2).length > 0,
    );
    const demoKeys = new Set(keysFor(dir2, 'demo', 1).map((k) => k['token-key']));
    check('directory: otra and demo have different keys', keysFor(dir2, 'otra', 1).every((k) => !demoKeys.has(k['token-key'])));
  }
  const otraReaders = await readersOf(base, 'otra');
  checkRefused('a demo type 1 token at otra (form field)', await spend(base, 'otra', otraReaders, { token: t1b, via: 'form' }), 'token-wrong-entity');
  checkRefused('a demo type 2 token at otra (header)', await spend(base, 'otra', otraReaders, { token: t2b, via: 'header' }), 'token-wrong-entity');
  {
    // Control: otra takes its own tokens.
    const otra = await readChallenge(base, 'otra', dir2, 'token');
    const [otraCode] = await codes(dataDir, 'otra', 1, 2);
    if (otra?.byType[1] && otraCode) {
      let tok = null;
      try {
        tok = await obtainToken(dir2?.issuerUrl ?? issuerUrl, otra.byType[1], otraCode);
      } catch (e) {
        check('issuer: a type 1 token for otra with an otra code', false, e.message);
      }
      if (tok) {
        checkRefused('an otra token at demo', await spend(base, 'demo', demoReaders, { token: tok, via: 'header' }), 'token-wrong-entity');
        checkAccepted('otra type 1 token at otra (control)', await spend(base, 'otra', otraReaders, { token: tok, via: 'form' }));
      }
    }
  }

  // ---------------------------------------------------------- a code runs out
  {
    let got = 0;
    let error = '';
    for (let i = 0; i < 2; i++) {
      try {
        await obtainToken(issuerUrl, demo.byType[1], smallCode);
        got += 1;
      } catch (e) {
        error = e.message;
      }
    }
    check('issuer: a code for 2 tokens gives 2 tokens', got === 2, error);
    const req = await newClient(1).createTokenRequest(demo.byType[1].challenge, demo.byType[1].tokenKey);
    checkIssuerError('a third token on a code for 2', await postTokenRequest(issuerUrl, req.serialize(), { code: smallCode }), 'code_exhausted');
    const req2 = await newClient(2).createTokenRequest(demo.byType[2].challenge, demo.byType[2].tokenKey);
    checkIssuerError('a type 2 token on the same spent code', await postTokenRequest(issuerUrl, req2.serialize(), { code: smallCode }), 'code_exhausted');
  }

  // ---------------------------------------------------------- double spend under load
  const raceTokens = [t1c, t2c, t1d];
  for (let i = 0; i < raceTokens.length; i++) {
    const t0 = Date.now();
    await race(base, 'demo', demoReaders, raceTokens[i], `${i + 1} (${typeName(raceTokens[i].authInput.tokenType)})`);
    note(`race ${i + 1} took ${Date.now() - t0} ms`);
  }
}

// ------------------------------------------------------------------ main

let server = null;
const cleanup = () => {
  if (server && !server.exited()) server.proc.kill('SIGKILL');
};
process.on('exit', cleanup);
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.on(sig, () => {
    cleanup();
    process.exit(130);
  });
}
const watchdog = setTimeout(() => {
  console.log(`FAIL  the whole run took longer than ${WATCHDOG_MS / 1000} s; stopping`);
  console.log(`${passed} passed, ${failed + 1} failed`);
  cleanup();
  process.exit(1);
}, WATCHDOG_MS);

const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'buzon-interop-'));
const dataDir = path.join(tmp, 'data');
try {
  server = await startServer(dataDir);
  check(
    'server started and answers GET /',
    server.answered,
    server.exited() ? `exited ${JSON.stringify(server.exited())}` : 'no answer in 30 s',
  );
  if (server.answered) {
    try {
      await run(server, dataDir);
    } catch (e) {
      check('the interop run completed', false, e.stack || String(e));
    }
  }
} catch (e) {
  check('test harness', false, e.stack || String(e));
} finally {
  clearTimeout(watchdog);
  await stopServer(server);
  if (harness.failures() > 0 && server) {
    const tail = (s) => s.split('\n').slice(-20).join('\n');
    console.log('--- server stdout (last lines)\n' + tail(server.log.out));
    console.log('--- server stderr (last lines)\n' + tail(server.log.err));
  }
  await fs.rm(tmp, { recursive: true, force: true });
}
finish();

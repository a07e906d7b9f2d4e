#!/usr/bin/env node
// A stand-in for the `buzon` binary that follows the Privacy Pass contract
// interop.mjs tests, built on privacypass-ts's own Issuer and Origin. It is
// NOT buzon and proves nothing about buzon: it exists only so that
// interop.mjs itself can be checked while the real server is being built:
//
//   node tests/interop/interop.mjs tests/interop/contract-mock.mjs
//
// It answers the same command lines interop.mjs gives the real binary:
//   contract-mock.mjs serve --demo --data DIR --listen 127.0.0.1:PORT
//   contract-mock.mjs --data DIR entity add --slug S --name N --complaints-office O
//   contract-mock.mjs --data DIR staff add --entity S --role coordinator --login L --name N
//   contract-mock.mjs --data DIR token policy --entity S token|open
//   contract-mock.mjs --data DIR token codes --entity S --count N --tokens-per-code M
// The server keeps everything in memory; the operator commands reach it
// through a loopback address it writes into DIR.

import { randomBytes } from 'node:crypto';
import fs from 'node:fs/promises';
import http from 'node:http';
import path from 'node:path';

const { Oprf } = await import('@cloudflare/voprf-ts');
const { CryptoNoble } = await import('@cloudflare/voprf-ts/crypto-noble');
Oprf.Crypto = CryptoNoble;
const { TokenChallenge, Token, TOKEN_TYPES, WWWAuthenticateHeader, privateVerif, publicVerif } = await import(
  '@cloudflare/privacypass-ts'
);
const { base64url: b64 } = await import('rfc4648');

// BUZON_MOCK_BUG=name[,name] makes the mock break the contract on purpose,
// to see interop.mjs catch it: race (a gap between checking and recording
// a spent token), unpadded (base64url without `=`), content-type (token
// responses with `; charset=utf-8`), no-www-auth (401 without a challenge).
const BUGS = new Set((process.env.BUZON_MOCK_BUG || '').split(',').filter(Boolean));
const base64url = {
  parse: b64.parse,
  stringify: (b) => b64.stringify(b, { pad: !BUGS.has('unpadded') }),
};

const argv = process.argv.slice(2);
const opt = (name, args = argv) => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};

// ------------------------------------------------------------------ operator commands (client side)

if (argv[0] !== 'serve') {
  const dataDir = opt('--data');
  const rest = argv.slice(argv.indexOf('--data') + 2);
  const addr = (await fs.readFile(path.join(dataDir, 'mock-address'), 'utf8')).trim();
  const r = await fetch(`http://${addr}/__mock/cli`, { method: 'POST', body: JSON.stringify(rest) });
  const text = await r.text();
  if (r.ok) process.stdout.write(text);
  else process.stderr.write(text);
  process.exit(r.ok ? 0 : 1);
}

// ------------------------------------------------------------------ server

const dataDir = opt('--data');
const listen = opt('--listen') ?? '127.0.0.1:0';
const ISSUER_NAME = 'buzon.mock';
const hex = (b) => Buffer.from(b).toString('hex');
const sha256 = async (b) => new Uint8Array(await crypto.subtle.digest('SHA-256', b));

const entities = new Map();
const codes = new Map();
const spent = new Set();
const drafts = new Map();

async function addEntity(slug, name) {
  const e = { slug, name, policy: 'open', coordinators: [], keys: {}, challenges: {} };
  const k1 = await privateVerif.keyGen();
  e.keys[1] = {
    tokenType: 1,
    publicKey: k1.publicKey,
    issuer: new privateVerif.Issuer(ISSUER_NAME, k1.privateKey, k1.publicKey),
    id: await sha256(k1.publicKey),
    notBefore: Math.floor(Date.now() / 1000),
  };
  const k2 = await publicVerif.Issuer.generateKey(publicVerif.BlindRSAMode.PSS, {
    modulusLength: 2048,
    publicExponent: Uint8Array.of(1, 0, 1),
  });
  const pk2 = await publicVerif.getPublicKeyBytes(k2.publicKey);
  e.keys[2] = {
    tokenType: 2,
    publicKey: pk2,
    issuer: new publicVerif.Issuer(publicVerif.BlindRSAMode.PSS, ISSUER_NAME, k2.privateKey, k2.publicKey),
    id: await sha256(pk2),
    notBefore: Math.floor(Date.now() / 1000),
  };
  for (const t of [1, 2]) e.challenges[t] = new TokenChallenge(t, ISSUER_NAME, new Uint8Array(0), [slug]).serialize();
  entities.set(slug, e);
  return e;
}

function newCode() {
  const A = 'ABCDEFGHJKMNPQRSTUVWXYZ23456789';
  const b = randomBytes(16);
  return [0, 1, 2, 3].map((g) => [0, 1, 2, 3].map((i) => A[b[g * 4 + i] % A.length]).join('')).join('-');
}

async function cliCommand(args) {
  const [a, b] = args;
  if (a === 'entity' && b === 'add') {
    const slug = opt('--slug', args);
    if (entities.has(slug)) throw new Error(`entity ${slug} exists`);
    await addEntity(slug, opt('--name', args));
    return `entity ${slug} added\n`;
  }
  if (a === 'staff' && b === 'add') {
    const e = entities.get(opt('--entity', args));
    if (!e) throw new Error('no such entity');
    e.coordinators.push(hex(randomBytes(16)));
    return 'staff added\n';
  }
  if (a === 'token' && b === 'policy') {
    const e = entities.get(opt('--entity', args));
    const p = args[args.length - 1];
    if (!e || !['token', 'open'].includes(p)) throw new Error('bad policy command');
    e.policy = p;
    return '';
  }
  if (a === 'token' && b === 'codes') {
    const e = entities.get(opt('--entity', args));
    if (!e) throw new Error('no such entity');
    const out = [];
    for (let i = 0; i < Number(opt('--count', args)); i++) {
      const c = newCode();
      codes.set(c, { entity: e.slug, left: Number(opt('--tokens-per-code', args)) });
      out.push(c);
    }
    return out.join('\n') + '\n';
  }
  throw new Error(`unknown command ${args.join(' ')}`);
}

function challengeJson(e) {
  return [1, 2].map((t) => ({
    'token-type': t,
    challenge: base64url.stringify(e.challenges[t]),
    'token-key': base64url.stringify(e.keys[t].publicKey),
    'max-age': 600,
  }));
}
function wwwAuthenticate(e) {
  return [1, 2]
    .map((t) => new WWWAuthenticateHeader(TokenChallenge.deserialize(e.challenges[t]), e.keys[t].publicKey, 600).toString(true))
    .join(', ');
}

function send(res, status, type, body, headers = {}) {
  res.writeHead(status, { 'Content-Type': type, ...headers });
  res.end(body);
}
function jsonError(res, status, code) {
  send(res, status, 'application/json', JSON.stringify({ error: { code, message: `mock: ${code}` } }));
}
function page(res, status, inner, headers = {}) {
  send(res, status, 'text/html; charset=utf-8', `<!doctype html><html><body><main>${inner}</main></body></html>`, headers);
}
function refuse(res, code, headers = {}, status = 400) {
  page(res, status, `<div class="notice error" role="alert" data-error="${code}"><p>${code}</p></div>`, headers);
}
const WORDS = 'casa perro luna sol mar rio nube arbol flor piedra campo monte lago viento fuego'.split(' ');
function receipt(res, words) {
  page(res, 200, `<div role="status">Tu mensaje se envió</div><ol class="receipt" lang="es">${words.map((w) => `<li>${w}</li>`).join('')}</ol>`);
}

async function issue(req, res, body) {
  if ((req.headers['content-type'] || '') !== 'application/private-token-request') return jsonError(res, 415, 'wrong_content_type');
  const codeText = req.headers['buzon-issuance-code'];
  if (!codeText) return jsonError(res, 401, 'code_missing');
  const code = codes.get(String(codeText).trim().toUpperCase());
  if (!code) return jsonError(res, 403, 'code_unknown');
  const bytes = new Uint8Array(body);
  if (bytes.length < 3) return jsonError(res, 400, 'request_malformed');
  const type = (bytes[0] << 8) | bytes[1];
  const e = entities.get(code.entity);
  const key = e.keys[type];
  if (!key || bytes.length !== 3 + (type === 1 ? 49 : 256)) return jsonError(res, 400, 'request_malformed');
  if (key.id[31] !== bytes[2]) return jsonError(res, 400, 'key_unknown');
  if (code.left <= 0) return jsonError(res, 429, 'code_exhausted');
  code.left -= 1;
  try {
    const tr =
      type === 1
        ? privateVerif.TokenRequest.deserialize(Uint8Array.from(bytes))
        : publicVerif.TokenRequest.deserialize(TOKEN_TYPES.BLIND_RSA, Uint8Array.from(bytes));
    const out = await key.issuer.issue(tr);
    const ctype = BUGS.has('content-type') ? 'application/private-token-response; charset=utf-8' : 'application/private-token-response';
    send(res, 200, ctype, Buffer.from(out.serialize()));
  } catch {
    code.left += 1;
    jsonError(res, 400, 'request_malformed');
  }
}

async function redeem(req, res, e, body) {
  const fd = await new Request('http://mock/', {
    method: 'POST',
    headers: { 'content-type': req.headers['content-type'] || '' },
    body,
  }).formData();
  const draft = String(fd.get('draft') || '');
  if (drafts.has(draft)) return receipt(res, drafts.get(draft));
  let tokenText = fd.get('token');
  const auth = req.headers.authorization;
  if (!tokenText && auth) {
    const m = /^PrivateToken\s+token="?([^",\s]*)"?\s*$/.exec(auth);
    tokenText = m ? m[1] : '!';
  }
  if (!tokenText) {
    const h = BUGS.has('no-www-auth') ? {} : { 'WWW-Authenticate': wwwAuthenticate(e) };
    if (e.policy === 'token') return refuse(res, 'token-missing', h, 401);
  } else {
    let bytes;
    try {
      bytes = base64url.parse(String(tokenText), { loose: true });
    } catch {
      return refuse(res, 'token-malformed');
    }
    const type = bytes.length >= 2 ? (bytes[0] << 8) | bytes[1] : 0;
    const len = type === 1 ? 146 : type === 2 ? 354 : -1;
    if (bytes.length !== len) return refuse(res, 'token-malformed');
    const token = Token.deserialize(type === 1 ? TOKEN_TYPES.VOPRF : TOKEN_TYPES.BLIND_RSA, Uint8Array.from(bytes));
    const owner = [...entities.values()].find((x) => hex(x.keys[type].id) === hex(token.authInput.tokenKeyId));
    if (!owner) return refuse(res, 'token-malformed');
    if (owner !== e) return refuse(res, 'token-wrong-entity');
    if (hex(await sha256(e.challenges[type])) !== hex(token.authInput.challengeDigest)) return refuse(res, 'token-wrong-entity');
    let valid = false;
    try {
      valid = await owner.keys[type].issuer.verify(token);
    } catch {
      valid = false;
    }
    if (!valid) return refuse(res, 'token-malformed');
    const id = `${type}:${hex(token.authInput.nonce)}`;
    if (spent.has(id)) return refuse(res, 'token-spent'); // no await between check and add
    if (BUGS.has('race')) await new Promise((r) => setTimeout(r, 5));
    spent.add(id);
  }
  const readers = fd.getAll('reader').filter((r) => e.coordinators.includes(r));
  if (readers.length === 0 || !fd.get('message')) return page(res, 400, '<p data-error="form">form</p>');
  const words = Array.from(randomBytes(10), (b) => WORDS[b % WORDS.length]);
  drafts.set(draft, words);
  receipt(res, words);
}

async function handle(req, res) {
  const chunks = [];
  for await (const c of req) chunks.push(c);
  const body = Buffer.concat(chunks);
  const url = new URL(req.url, 'http://mock');
  const p = url.pathname;
  let m;
  if (req.method === 'GET' && p === '/') return page(res, 200, '<p>mock</p>');
  if (req.method === 'POST' && p === '/__mock/cli') {
    try {
      return send(res, 200, 'text/plain', await cliCommand(JSON.parse(body.toString())));
    } catch (e) {
      return send(res, 400, 'text/plain', `${e.message}\n`);
    }
  }
  if (req.method === 'GET' && p === '/.well-known/private-token-issuer-directory') {
    const keys = [];
    for (const e of entities.values()) {
      for (const t of [1, 2]) {
        keys.push({
          'token-type': t,
          'token-key': base64url.stringify(e.keys[t].publicKey),
          'not-before': e.keys[t].notBefore,
          'buzon-scope': e.slug,
        });
      }
    }
    return send(
      res,
      200,
      'application/private-token-issuer-directory',
      JSON.stringify({ 'issuer-request-uri': '/api/v1/token-request', 'token-keys': keys }),
    );
  }
  if (req.method === 'GET' && (m = /^\/api\/v1\/entities\/([a-z0-9-]+)\/token-challenge$/.exec(p)) && entities.has(m[1])) {
    const e = entities.get(m[1]);
    return send(res, 200, 'application/json', JSON.stringify({ entity: e.slug, policy: e.policy, challenges: challengeJson(e) }), {
      'WWW-Authenticate': wwwAuthenticate(e),
    });
  }
  if (req.method === 'POST' && p === '/api/v1/token-request') return issue(req, res, body);
  if ((m = /^\/e\/([a-z0-9-]+)$/.exec(p)) && req.method === 'GET' && entities.has(m[1])) {
    const e = entities.get(m[1]);
    const boxes = e.coordinators.map((c) => `<label><input type="checkbox" name="reader" value="${c}" checked> C</label>`);
    return page(res, 200, `<form method="post" action="/e/${e.slug}/enviar" enctype="multipart/form-data">${boxes.join('')}</form>`);
  }
  if ((m = /^\/e\/([a-z0-9-]+)\/enviar$/.exec(p)) && req.method === 'POST' && entities.has(m[1])) {
    return redeem(req, res, entities.get(m[1]), body);
  }
  page(res, 404, '<p>not found</p>');
}

const demo = await addEntity('demo', 'Demo');
demo.coordinators.push(hex(randomBytes(16)));
const [host, port] = [listen.slice(0, listen.lastIndexOf(':')), Number(listen.slice(listen.lastIndexOf(':') + 1))];
const server = http.createServer((req, res) => {
  handle(req, res).catch((e) => {
    if (!res.headersSent) send(res, 500, 'text/plain', String(e.stack));
  });
});
await fs.mkdir(dataDir, { recursive: true });
await fs.writeFile(path.join(dataDir, 'mock-address'), `${host}:${port}\n`);
server.listen(port, host, () => console.log(`contract mock (not buzon) listening on http://${host}:${port}/`));
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => server.close(() => process.exit(0)));

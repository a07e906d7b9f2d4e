// The script of buzon's /e/{slug}/pases page: turns an issuance code into
// Privacy Pass tokens (RFC 9578, token type 1: VOPRF P-384, SHA-384).
//
// The page is the only one of buzon that runs JavaScript, because blinding
// has to happen on the reporter's own device: the server must sign tokens it
// can never link to the code it was shown (RFC 9576). Everything here runs
// in the browser; nothing but these requests leave it, all to the page's
// own origin (the page's CSP: script-src 'self'; connect-src 'self'):
//   GET  data-challenge-url   the entity's token challenge (JSON)
//   GET  data-directory-url   the issuer directory (for issuer-request-uri)
//   POST issuer-request-uri   one TokenRequest per token, with the code
// No cookies or referrer are sent with them.
//
// Markup it expects (written by the server):
//   <form id="pases" data-challenge-url data-directory-url
//         data-msg-working data-msg-done data-msg-failed>
//     <input id="pases-code"> <input id="pases-count" max=N> <button type=submit>
//   </form>
//   <p id="pases-status" role="status"></p>
//   <textarea id="pases-out" readonly></textarea>
// Messages are the data-msg-* templates, with {done}, {count} and {message}
// filled in; an issuer error shows the `message` of its JSON body.

import './noble.mjs'; // first: sets the P-384 backend before privacypass-ts loads
import { Client } from '@cloudflare/privacypass-ts/lib/src/priv_verif_token.js';
import { TokenChallenge } from '@cloudflare/privacypass-ts/lib/src/auth_scheme/private_token.js';
import { base64url } from 'rfc4648';

const TOKEN_TYPE = 1; // VOPRF (P-384, SHA-384), privately verifiable
const REQUEST_TYPE = 'application/private-token-request';
const RESPONSE_TYPE = 'application/private-token-response';
const FETCH = { credentials: 'omit', cache: 'no-store', referrerPolicy: 'no-referrer', redirect: 'error' };

/** An error whose message is fit to show the person as it is. */
class Shown extends Error {}

function fill(template, values) {
  return String(template || '').replace(/\{(\w+)\}/g, (all, name) => (name in values ? String(values[name]) : all));
}

/** The `message` of a JSON error body `{"error": {"code", "message"}}`, or null. */
async function errorMessage(res) {
  try {
    const body = await res.json();
    const m = body && body.error && body.error.message;
    return typeof m === 'string' && m ? m : null;
  } catch {
    return null;
  }
}

async function getJson(url) {
  const res = await fetch(url, { ...FETCH, headers: { Accept: 'application/json' } });
  if (!res.ok) throw new Shown((await errorMessage(res)) || `HTTP ${res.status}`);
  return res.json();
}

function decodeOrNull(text) {
  try {
    return base64url.parse(String(text));
  } catch {
    return null;
  }
}

function sameBytes(a, b) {
  return !!a && !!b && a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Same-origin absolute URL for a path the server gave, or an error. */
function ownUrl(relative) {
  const url = new URL(relative, window.location.href);
  if (url.origin !== window.location.origin) throw new Error(`not this site: ${url.origin}`);
  return url.href;
}

/** Reads the entity's type-1 challenge and the issuer's address. */
async function prepare(form) {
  const [challengeDoc, directory] = await Promise.all([
    getJson(ownUrl(form.dataset.challengeUrl)),
    getJson(ownUrl(form.dataset.directoryUrl)),
  ]);
  const entry = (challengeDoc.challenges || []).find((c) => c['token-type'] === TOKEN_TYPE);
  if (!entry) throw new Error('no token challenge of type 1');
  const challenge = TokenChallenge.deserialize(base64url.parse(entry.challenge));
  if (challenge.tokenType !== TOKEN_TYPE) throw new Error('token challenge of the wrong type');
  const tokenKey = base64url.parse(entry['token-key']);
  // Key consistency (RFC 9576): the key we are asked to use must be one the
  // issuer publishes to everybody in its directory, not one made for us.
  const entity = form.dataset.entity || '';
  const mine = (directory['token-keys'] || []).filter(
    (k) => k['token-type'] === TOKEN_TYPE && k['buzon-scope'] === entity,
  );
  const listed = mine.find((k) => sameBytes(decodeOrNull(k['token-key']), tokenKey));
  if (!listed) throw new Error('the token key is not in the issuer directory');
  if (mine.some((k) => (k['not-before'] || 0) > (listed['not-before'] || 0))) {
    throw new Error('the token key is not the newest in the issuer directory');
  }
  // The challenge too must be the one everyone gets (this issuer, no
  // redemption context, this entity): any other would travel inside every
  // token as its digest and could tie the tokens to this code.
  const origins = challenge.originInfo || [];
  if (
    challenge.redemptionContext.length !== 0 ||
    challenge.issuerName !== listed['buzon-issuer-name'] ||
    origins.length !== 1 ||
    origins[0] !== entity
  ) {
    throw new Error('the challenge is not the standard one for this issuer and entity');
  }
  // The issuer answers refusals in the page's language: the fetch carries
  // no cookie, so the language travels in the address.
  const issuer = new URL(ownUrl(directory['issuer-request-uri']));
  issuer.searchParams.set('lang', document.documentElement.lang === 'en' ? 'en' : 'es');
  const issuerUrl = issuer.toString();
  return { challenge, tokenKey, issuerUrl };
}

/** One token: blind, ask the issuer, unblind and check the proof. */
async function oneToken(prep, code) {
  const client = new Client();
  const request = await client.createTokenRequest(prep.challenge, prep.tokenKey);
  const headers = { 'Content-Type': REQUEST_TYPE, Accept: RESPONSE_TYPE };
  if (code) headers['Buzon-Issuance-Code'] = code;
  const res = await fetch(prep.issuerUrl, { ...FETCH, method: 'POST', headers, body: request.serialize() });
  if (res.status !== 200) throw new Shown((await errorMessage(res)) || `HTTP ${res.status}`);
  const type = (res.headers.get('Content-Type') || '').toLowerCase();
  if (type !== RESPONSE_TYPE) throw new Error(`unexpected response type ${type}`);
  const bytes = new Uint8Array(await res.arrayBuffer());
  const token = await client.finalize(client.deserializeTokenResponse(bytes)); // checks the DLEQ proof
  return base64url.stringify(token.serialize());
}

function start() {
  const form = document.getElementById('pases');
  const codeInput = document.getElementById('pases-code');
  const countInput = document.getElementById('pases-count');
  const status = document.getElementById('pases-status');
  const out = document.getElementById('pases-out');
  if (!form || !codeInput || !countInput || !status || !out) return;
  // The form is hidden until this script runs: without it, submitting
  // would only put the code in the address bar.
  document.getElementById('pases-app')?.removeAttribute('hidden');
  const button = form.querySelector('button[type="submit"], button:not([type])');
  let busy = false;

  const say = (text) => {
    status.textContent = text;
  };
  // Tokens are added as they come, so none is lost if a later one fails:
  // each one has already used up part of the code.
  const keep = (token) => {
    const before = out.value && !out.value.endsWith('\n') ? `${out.value}\n` : out.value;
    out.value = `${before}${token}\n`;
  };

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (busy) return;
    busy = true;
    if (button) button.disabled = true;
    form.setAttribute('aria-busy', 'true');
    const code = codeInput.value.trim().toUpperCase();
    const max = Number.parseInt(countInput.max, 10);
    let count = Number.parseInt(countInput.value, 10);
    if (!Number.isFinite(count) || count < 1) count = 1;
    if (Number.isFinite(max) && max >= 1 && count > max) count = max;
    let done = 0;
    try {
      if (!window.crypto || !window.crypto.subtle) throw new Error('WebCrypto is not available (the page needs HTTPS)');
      say(fill(form.dataset.msgWorking, { done, count }));
      const prep = await prepare(form);
      for (; done < count; ) {
        keep(await oneToken(prep, code));
        done += 1;
        say(fill(form.dataset.msgWorking, { done, count }));
      }
      say(fill(form.dataset.msgDone, { count: done }));
    } catch (e) {
      const message = e instanceof Shown ? e.message : `${e && e.message ? e.message : e}`;
      say(fill(done === 0 && form.dataset.msgFailedNone ? form.dataset.msgFailedNone : form.dataset.msgFailed, { message, done, count }));
    } finally {
      busy = false;
      if (button) button.disabled = false;
      form.removeAttribute('aria-busy');
    }
  });
}

if (typeof document !== 'undefined') {
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
}

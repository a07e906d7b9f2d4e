// End-to-end test of claim tokens ("pases") in headless Chromium, against the
// real server:
//
//   node tests/browser/pases.mjs path/to/buzon-binary
//
// Starts `buzon serve --demo` on a free loopback port with a fresh data
// directory, puts the demo entity under the `token` policy and makes one
// issuance code good for three tokens (`buzon token policy`, `buzon token
// codes`). Then:
//
//  1. with JavaScript ON, /e/demo/pases (the one page with a script) turns
//     the code into two tokens, then asks for two more: the third comes, the
//     fourth is refused and the server's own message (code_exhausted) is
//     shown. Its CSP must allow scripts and fetches from 'self' only; every
//     request is recorded (same origin, only the expected ones, no cookie or
//     referrer on the script's fetches) and no console message, page error
//     or CSP violation may appear;
//  2. with JavaScript OFF, the same page shows its <noscript> notice and the
//     command-line alternative; the reporter form of /e/demo takes the first
//     token (receipt of ten words), refuses it the second time
//     (data-error="token-spent", the message kept) and refuses a blank pass
//     (401, data-error="token-missing");
//  3. every reporter page seen with JavaScript off has no <script>; only
//     /e/demo/pases has one, /static/pases.js, and no other page's CSP
//     allows scripts.
//
// Screenshots go to tests/browser/out/pases-*.png. Prints one line per check
// and ends with `N passed, M failed`; exits non-zero on any failure. The
// server is always stopped.

import { createHash } from 'node:crypto';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as harness from '../harness.mjs';
import { check, finish, sleep, runCli, stopServer } from '../harness.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const OUT = path.join(HERE, 'out');

// ------------------------------------------------------------------ arguments and prerequisites

const BINARY = harness.binaryFromArgs('tests/browser/pases.mjs');

const CHROMIUM = harness.chromiumPath();

let chromium;
try {
  ({ chromium } = await import('playwright-core'));
} catch (e) {
  console.log(`playwright-core is not installed (run: npm ci --prefix tests/browser): ${e.message}`);
  console.log('0 passed, 1 failed');
  process.exit(1);
}

// ------------------------------------------------------------------ test data

const SLUG = 'demo';
const PASES = `/e/${SLUG}/pases`;
const CHALLENGE = `/api/v1/entities/${SLUG}/token-challenge`;
const DIRECTORY = '/.well-known/private-token-issuer-directory';
const ISSUE = '/api/v1/token-request';
const TOKENS_PER_CODE = 3;

const MESSAGE =
  'Mi jefa pidió que firmáramos asistencias de una capacitación que no se dio.\n' +
  'Texto con marcas: <b>etiqueta</b> & "comillas" — ¿qué hago? Año 2026.';
const MESSAGE_SPENT = 'Segundo mensaje, con el mismo pase: debe rechazarse y quedarse aquí. Ñandú.';
const MESSAGE_MISSING = 'Tercer mensaje, sin pase: también debe quedarse en el formulario.';
const MESSAGE_THIRD_TOKEN = 'Cuarto mensaje, con el tercer pase (de la segunda vuelta).';

// The page's sentences (locales/es.ftl, locales/en.ftl).
const ES = {
  submit: 'Obtener pases',
  done: (n) => `Listo. Pases obtenidos: ${n}. Cópialos y guárdalos en un lugar seguro; cada uno sirve una vez.`,
  failedPrefix: 'No se pudieron obtener todos los pases (obtenidos: 1): ',
  exhausted: 'Ya obtuviste todos los pases que da este código en este periodo. Podrás obtener más en el siguiente periodo.',
  noscript: 'JavaScript está desactivado, así que aquí no se pueden obtener pases. Usa el programa de línea de comandos (arriba).',
  spent: 'Ese pase ya se usó. Cada pase sirve para un solo mensaje nuevo; usa otro de tus pases.',
  missing: 'Esta entidad pide un pase para recibir mensajes nuevos.',
  footerNoJs: 'Este sitio no usa JavaScript',
};
const EN = {
  submit: 'Get passes',
  failedPrefix: 'No pass could be obtained: ',
  exhausted: 'You have already got every pass this code gives in this period. You can get more in the next period.',
};
const CLI_LINE = `--entity ${SLUG} --count 5 --out pases.txt`;

// ------------------------------------------------------------------ server



/** Starts the server (tests/harness.mjs). */
const startServer = (dataDir) => harness.startServer(BINARY, dataDir);

const cliOnce = (dataDir, args) => runCli(BINARY, dataDir, args, 20_000);

/** The CLI talks to the running server through its admin socket; the
 * socket may come up a moment after the first page answers. */
async function cli(dataDir, args) {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const r = await cliOnce(dataDir, args);
    if (r.code === 0 || Date.now() > deadline || !/admin socket/.test(r.err)) return r;
    await sleep(200);
  }
}

// ------------------------------------------------------------------ tokens (RFC 9578 type 1)

const sha256 = (b) => createHash('sha256').update(b).digest();

function b64urlDecode(s) {
  const t = s.replace(/=+$/, '');
  if (!/^[A-Za-z0-9_-]*$/.test(t)) return null;
  return Buffer.from(t, 'base64url');
}

/** Splits a type-1 token: type(2) nonce(32) challenge_digest(32) key_id(32) authenticator(48). */
function parseToken(line) {
  const b = b64urlDecode(line);
  if (!b || b.length !== 2 + 32 + 32 + 32 + 48) return null;
  return {
    type: b.readUInt16BE(0),
    nonce: b.subarray(2, 34),
    digest: b.subarray(34, 66),
    keyId: b.subarray(66, 98),
  };
}

function parseCsp(value) {
  const m = new Map();
  for (const part of String(value || '').split(';')) {
    const [name, ...vals] = part.trim().split(/\s+/);
    if (name) m.set(name.toLowerCase(), vals);
  }
  return m;
}

// ------------------------------------------------------------------ browser watching

const problems = {
  foreign: [], // requests to another origin
  scripts: [], // pages other than /e/demo/pases that carried a <script> element
  csp: [], // pages other than /e/demo/pases whose CSP allows scripts
  console: [], // console messages, page errors, dialogs, CSP violations
  badStatus: [], // documents answered with an unexpected status
  subresources: [], // other requests answered with 4xx/5xx
};
// Every request seen, per context label: { method, path, type, headers }.
const requests = [];
const seenByDevtools = new Set();
const notes = new Set();
// Documents whose error status is the point of the step (status by path+label).
const expectedStatus = [];
// Bodies of the issuer's refusals, in order.
const issuerRefusals = [];
// Scripts found on /e/demo/pases: { label, sent, inline, srcs }.
const pasesScripts = [];

/** A watched context; JavaScript on or off as asked. */
async function watchedContext(browser, base, label, { js = false, locale = 'es-MX' } = {}) {
  const origin = new URL(base).origin;
  const ctx = await browser.newContext({
    javaScriptEnabled: js,
    locale,
    viewport: { width: 1100, height: 900 },
  });
  if (js) {
    // Collects CSP violations as the page sees them (init scripts come from
    // the browser's DevTools, not from the page, and are outside its CSP).
    await ctx.addInitScript(() => {
      window.__cspViolations = [];
      document.addEventListener('securitypolicyviolation', (e) => {
        window.__cspViolations.push(`${e.effectiveDirective} ${e.blockedURI}`);
      });
    });
  }
  const pending = new Set();
  const track = (job) => {
    pending.add(job);
    job.finally(() => pending.delete(job));
  };
  ctx.on('request', (req) => {
    const url = req.url();
    let u = null;
    try {
      u = new URL(url);
    } catch {
      // leave null
    }
    if (!u || u.origin !== origin) {
      if (!url.startsWith('data:')) problems.foreign.push(`${label}: ${req.method()} ${url}`);
      return;
    }
    const rec = { label, method: req.method(), path: u.pathname, search: u.search, type: req.resourceType(), headers: null };
    requests.push(rec);
    track(
      req
        .allHeaders()
        .then((h) => (rec.headers = h))
        .catch(() => (rec.headers = req.headers())),
    );
  });
  const close = ctx.close.bind(ctx);
  ctx.close = async () => {
    await Promise.allSettled([...pending]);
    await close();
  };
  ctx.on('response', (resp) => track(inspectResponse(resp)));
  async function inspectResponse(resp) {
    const req = resp.request();
    const u = new URL(resp.url());
    if (req.method() === 'POST' && u.pathname === ISSUE && resp.status() !== 200) {
      let body = null;
      try {
        body = await resp.json();
      } catch {
        // not JSON
      }
      issuerRefusals.push({ label, status: resp.status(), type: resp.headers()['content-type'], body });
      return;
    }
    if (req.resourceType() !== 'document') {
      if (resp.status() >= 400) problems.subresources.push({ label, status: resp.status(), url: resp.url() });
      return;
    }
    const want = expectedStatus.find((e) => e.label === label && e.path === u.pathname && e.status === resp.status());
    if (resp.status() >= 400 && !want) problems.badStatus.push(`${label}: ${resp.status()} ${resp.url()}`);
    const csp = parseCsp(resp.headers()['content-security-policy']);
    let body = '';
    try {
      body = await resp.text();
    } catch {
      // redirects have no body
    }
    const sent = (body.match(/<script\b/gi) || []).length;
    if (u.pathname === PASES) {
      pasesScripts.push({ label, sent, body });
    } else {
      if (sent > 0) problems.scripts.push(`${label}: ${resp.url()} (in the HTML sent)`);
      const scriptSrc = csp.get('script-src') || csp.get('default-src');
      if (resp.status() < 300 || resp.status() >= 400) {
        if (!scriptSrc || scriptSrc.join(' ') !== "'none'") {
          problems.csp.push(`${label}: ${resp.url()}: ${resp.headers()['content-security-policy']}`);
        }
      }
    }
  }
  ctx.newWatchedPage = async () => {
    const page = await ctx.newPage();
    try {
      const cdp = await ctx.newCDPSession(page);
      cdp.on('Network.requestWillBeSent', (e) => {
        const url = e.request.url;
        let o = null;
        try {
          o = new URL(url).origin;
        } catch {
          // leave null
        }
        if (o !== origin && !url.startsWith('data:')) problems.foreign.push(`${label}: ${e.type} ${url} (devtools)`);
        seenByDevtools.add(url);
      });
      await cdp.send('Network.enable');
    } catch (e) {
      problems.console.push(`${label}: could not watch the network log: ${e.message}`);
    }
    return page;
  };
  ctx.on('page', (page) => {
    page.on('console', (m) => {
      const text = `${label}: ${page.url()}: console.${m.type()}: ${m.text()}`;
      if (m.type() === 'verbose' && m.text().startsWith('[DOM]')) {
        notes.add(`chromium hint on ${new URL(page.url()).pathname}: ${m.text()}`);
        return;
      }
      const failedLoad = /^Failed to load resource: the server responded with a status of (\d+)/.exec(m.text());
      if (failedLoad) {
        const url = m.location()?.url || '';
        let p = '';
        try {
          p = new URL(url).pathname;
        } catch {
          // leave empty
        }
        if (p === '/favicon.ico') {
          notes.add(`the browser's own GET /favicon.ico: ${m.text()}`);
          return;
        }
        // Chromium logs every refused fetch; the issuer's 429 is the point
        // of the exhausted-code step.
        if (p === ISSUE && failedLoad[1] === '429') {
          notes.add(`Chromium logs the issuer's expected 429 as a console error: ${m.text()}`);
          return;
        }
        // So it does for a refusal page whose status is the point of a step.
        if (expectedStatus.some((e) => e.label === label && e.path === p && String(e.status) === failedLoad[1])) return;
        problems.console.push(`${text} (${url})`);
        return;
      }
      problems.console.push(text);
    });
    page.on('pageerror', (e) => problems.console.push(`${label}: page error: ${e.message}`));
    page.on('dialog', (d) => {
      problems.console.push(`${label}: dialog: ${d.message()}`);
      d.dismiss().catch(() => {});
    });
  });
  return ctx;
}

async function noScriptElements(page, label) {
  const n = await page.locator('script').count();
  if (n > 0 && pathOf(page) !== PASES) problems.scripts.push(`${label}: ${page.url()} (${n} in the DOM)`);
}

/** Clicks and waits for the document answering the navigation; returns it. */
async function clickTo(page, locator, to) {
  const [resp] = await Promise.all([
    page.waitForResponse((r) => r.request().isNavigationRequest() && r.request().frame() === page.mainFrame() && to.test(new URL(r.url()).pathname)),
    locator.click(),
  ]);
  await page.waitForLoadState('load');
  return resp;
}

function pathOf(page) {
  return new URL(page.url()).pathname;
}

async function shot(page, name, fullPage = true) {
  const file = path.join(OUT, name);
  await page.screenshot({ path: file, fullPage });
  console.log(`      screenshot ${path.relative(process.cwd(), file)}`);
}

/** Waits until the pases form is idle with a status other than `before`. */
async function waitForPasesResult(page, before) {
  await page.waitForFunction(
    (prev) => {
      const s = document.getElementById('pases-status').textContent;
      return !document.getElementById('pases').hasAttribute('aria-busy') && s !== prev && s !== '';
    },
    before,
    { timeout: 90_000 },
  );
  return (await page.locator('#pases-status').textContent()) ?? '';
}

const posts = (label) => requests.filter((r) => r.label === label && r.method === 'POST' && r.path === ISSUE).length;

// ------------------------------------------------------------------ the walk

async function run(browser, server, code, issuer) {
  const { base } = server;
  let tokens = [];

  // ---------------------------------------------------------- the harness itself: a CSP violation is caught
  {
    const label = 'harness';
    const ctx = await watchedContext(browser, base, label, { js: true });
    const page = await ctx.newWatchedPage();
    await page.goto(`${base}${PASES}`);
    await page.evaluate(() => {
      const s = document.createElement('script');
      s.textContent = 'window.__inlineRan = true;';
      document.body.append(s);
    });
    await sleep(300);
    const seen = await page.evaluate(() => ({ v: window.__cspViolations || [], ran: !!window.__inlineRan }));
    await ctx.close();
    const logged = problems.console.filter((p) => p.startsWith('harness:'));
    check(
      "harness: an inline script on /e/demo/pases is blocked and caught (CSP event and console)",
      !seen.ran && seen.v.some((v) => v.startsWith('script-src')) && logged.some((p) => /Content Security Policy/.test(p)),
      JSON.stringify({ seen, logged }),
    );
    for (const k of Object.keys(problems)) {
      problems[k] = problems[k].filter((p) => (typeof p === 'string' ? !p.startsWith('harness:') : p.label !== 'harness'));
    }
    pasesScripts.splice(0, pasesScripts.length);
  }

  // ---------------------------------------------------------- 2. JavaScript on: get tokens
  {
    const label = 'js';
    const ctx = await watchedContext(browser, base, label, { js: true });
    const page = await ctx.newWatchedPage();
    const resp = await page.goto(`${base}${PASES}`);
    check('js: /e/demo/pases answers 200', resp?.status() === 200, `${resp?.status()}`);
    const cspRaw = (await resp.allHeaders())['content-security-policy'] || '';
    const csp = parseCsp(cspRaw);
    check(
      "js: CSP allows scripts from 'self' only",
      (csp.get('script-src') || []).join(' ') === "'self'",
      cspRaw,
    );
    check(
      "js: CSP allows fetches to 'self' only, defaults to 'none', no unsafe-* or data:/blob:",
      (csp.get('connect-src') || []).join(' ') === "'self'" &&
        (csp.get('default-src') || []).join(' ') === "'none'" &&
        !/unsafe-|data:|blob:|\*|https?:/.test(cspRaw),
      cspRaw,
    );
    const scripts = page.locator('script');
    const srcs = await scripts.evaluateAll((els) => els.map((e) => ({ src: e.getAttribute('src'), text: e.textContent })));
    check(
      'js: the page has one <script>, /static/pases.js, with no inline code',
      srcs.length === 1 && srcs[0].src === '/static/pases.js' && srcs[0].text === '',
      JSON.stringify(srcs),
    );
    check('js: the <noscript> notice is not shown', !(await page.getByText(ES.noscript).isVisible()));
    check(
      'js: the count field allows at most 20',
      (await page.locator('#pases-count').getAttribute('max')) === '20',
    );
    const footer = await page.locator('footer').innerText();
    if (footer.includes(ES.footerNoJs)) {
      notes.add(
        `the footer of /e/demo/pases, the page that runs JavaScript, still says "${ES.footerNoJs}…" (footer-reporter)`,
      );
    }
    await shot(page, 'pases-01-page.png');

    // Two tokens.
    await page.getByLabel('Código de tu entidad', { exact: true }).pressSequentially(code, { delay: 5 });
    await page.getByLabel('Cuántos pases', { exact: true }).fill('2');
    const t0 = Date.now();
    await page.getByRole('button', { name: ES.submit }).click();
    let status = await waitForPasesResult(page, '');
    const firstSecs = ((Date.now() - t0) / 1000).toFixed(1);
    check('js: two tokens: the done message is shown', status === ES.done(2), JSON.stringify(status));
    notes.add(`two tokens took ${firstSecs} s in the browser (blinding, two POSTs, unblinding)`);
    let lines = (await page.locator('#pases-out').inputValue()).split('\n').filter(Boolean);
    check('js: two tokens: two lines in #pases-out', lines.length === 2, JSON.stringify(lines));
    check('js: two tokens: two POSTs to the issuer', posts(label) === 2, `${posts(label)}`);
    tokens = lines.slice();
    await shot(page, 'pases-02-two-tokens.png');

    // Two more: the third comes, the fourth is refused.
    await page.getByLabel('Cuántos pases', { exact: true }).fill('2');
    await page.getByRole('button', { name: ES.submit }).click();
    status = await waitForPasesResult(page, status);
    lines = (await page.locator('#pases-out').inputValue()).split('\n').filter(Boolean);
    check('js: code runs out: three lines in all, the first two unchanged', lines.length === 3 && lines[0] === tokens[0] && lines[1] === tokens[1], JSON.stringify(lines));
    check('js: code runs out: two more POSTs (the third token, then the refusal)', posts(label) === 4, `${posts(label)}`);
    tokens = lines.slice();
    const refusal = issuerRefusals.find((r) => r.label === label);
    check(
      'js: code runs out: the issuer answers 429 code_exhausted in JSON',
      refusal?.status === 429 && refusal.body?.error?.code === 'code_exhausted' && /^application\/json/.test(refusal.type || ''),
      JSON.stringify(refusal),
    );
    check(
      "js: code runs out: #pases-status shows the server's own Spanish message",
      status === ES.failedPrefix + ES.exhausted && refusal?.body?.error?.message === ES.exhausted,
      JSON.stringify(status),
    );
    check('js: the button is enabled again', await page.getByRole('button', { name: ES.submit }).isEnabled());
    await shot(page, 'pases-03-code-exhausted.png');

    // The tokens themselves.
    const parsed = tokens.map(parseToken);
    check(
      'js: each token is padded base64url of 146 bytes, token type 1',
      parsed.every((t) => t && t.type === 1) && tokens.every((t) => /^[A-Za-z0-9_-]+=*$/.test(t)),
      JSON.stringify(tokens),
    );
    check(
      "js: each token binds the entity's challenge (digest) and the published type-1 key (key id)",
      parsed.every((t) => t && t.digest.equals(sha256(issuer.challenge)) && t.keyId.equals(sha256(issuer.key))),
    );
    check('js: the three tokens (and their nonces) are all different', new Set(parsed.map((t) => t?.nonce.toString('hex'))).size === 3);

    const v = await page.evaluate(() => window.__cspViolations);
    check('js: no CSP violation on /e/demo/pases', Array.isArray(v) && v.length === 0, JSON.stringify(v));

    // The same step in English: the refusal should be in English too. The
    // person chose English earlier (?lang=en sets the lang cookie) and opens
    // the page again.
    await page.goto(`${base}/e/${SLUG}?lang=en`);
    await page.goto(`${base}${PASES}`);
    await page.getByLabel("Your entity's code", { exact: true }).fill(code);
    await page.getByLabel('How many passes', { exact: true }).fill('1');
    const n0 = issuerRefusals.length;
    await page.getByRole('button', { name: EN.submit }).click();
    const enStatus = await waitForPasesResult(page, '');
    check('js (English page): the refusal is shown through the English template', enStatus.startsWith(EN.failedPrefix), JSON.stringify(enStatus));
    const enRefusal = issuerRefusals[n0];
    if (enStatus !== EN.failedPrefix + EN.exhausted) {
      notes.add(
        'on the English page (lang=en cookie set by ?lang=en) the issuer refusal is shown in Spanish: ' +
          `${JSON.stringify(enStatus)}. The script fetches with credentials:'omit', so the lang cookie never ` +
          'reaches /api/v1/token-request, and the server picks the language from ?lang= or the cookie only ' +
          `(not Accept-Language); issuer answered ${JSON.stringify(enRefusal?.body)}`,
      );
    }
    await shot(page, 'pases-04-english-refusal.png');
    const v2 = await page.evaluate(() => window.__cspViolations);
    check('js: no CSP violation on the English page either', Array.isArray(v2) && v2.length === 0, JSON.stringify(v2));
    await ctx.close();

    // The network, as the pages saw it.
    const mine = requests.filter((r) => r.label === label);
    const kinds = new Set(mine.map((r) => `${r.method} ${r.path}`));
    const allowed = new Set([
      `GET ${PASES}`,
      `GET /e/${SLUG}`,
      'GET /static/pases.js',
      'GET /static/buzon.css',
      `GET ${CHALLENGE}`,
      `GET ${DIRECTORY}`,
      `POST ${ISSUE}`,
      'GET /favicon.ico',
    ]);
    check('js: only the expected requests were made', [...kinds].every((k) => allowed.has(k)), [...kinds].join(', '));
    check(
      'js: the script fetched the challenge and the directory for each run (3 runs)',
      mine.filter((r) => r.path === CHALLENGE).length === 3 && mine.filter((r) => r.path === DIRECTORY).length === 3,
      `${mine.filter((r) => r.path === CHALLENGE).length} / ${mine.filter((r) => r.path === DIRECTORY).length}`,
    );
    const api = mine.filter((r) => r.path === CHALLENGE || r.path === DIRECTORY || r.path === ISSUE);
    check(
      "js: the script's requests carry no cookie and no referrer",
      api.length > 0 && api.every((r) => r.headers && !r.headers.cookie && !r.headers.referer),
      JSON.stringify(api.filter((r) => !r.headers || r.headers.cookie || r.headers.referer).slice(0, 2)),
    );
    check(
      'harness: the recorded headers do show cookies (the English page request carries lang=en)',
      mine.some((r) => r.path === PASES && /lang=en/.test(r.headers?.cookie || '')),
    );
    const withCode = mine.filter((r) => r.path === ISSUE);
    check(
      'js: every POST carries the code (upper case) in Buzon-Issuance-Code and the RFC 9578 content type',
      withCode.every((r) => r.headers?.['buzon-issuance-code'] === code && r.headers?.['content-type'] === 'application/private-token-request'),
    );
    check('js: the code never appears in an address', mine.every((r) => !r.search.includes(code) && !r.path.includes(code)));
  }

  // ---------------------------------------------------------- 3. JavaScript off: use them
  {
    const label = 'nojs';
    const ctx = await watchedContext(browser, base, label);
    const page = await ctx.newWatchedPage();

    // The page that needs JavaScript, without it.
    let resp = await page.goto(`${base}${PASES}`);
    check('nojs: /e/demo/pases answers 200', resp?.status() === 200, `${resp?.status()}`);
    const notice = page.getByText(ES.noscript, { exact: true });
    check('nojs: the <noscript> notice is shown', (await notice.count()) === 1 && (await notice.isVisible()));
    check('nojs: the command-line alternative is shown, with this server\'s address', (await page.locator('pre').innerText()).includes(`buzon token fetch --server ${base} ${CLI_LINE}`), await page.locator('pre').innerText());
    check('nojs: the script did not run (status empty)', ((await page.locator('#pases-status').textContent()) ?? '') === '');
    await shot(page, 'pases-05-no-javascript.png');
    // Layout: the code field against the page's other text fields, and a
    // phone-sized window.
    const fonts = await page.evaluate(() => ({
      code: getComputedStyle(document.getElementById('pases-code')).fontSize,
      codeWidth: document.getElementById('pases-code').getBoundingClientRect().width,
      out: getComputedStyle(document.getElementById('pases-out')).fontSize,
      outWidth: document.getElementById('pases-out').getBoundingClientRect().width,
    }));
    if (fonts.code !== fonts.out || fonts.codeWidth < fonts.outWidth / 2) {
      notes.add(
        `the code and count fields of /e/demo/pases are left unstyled (font ${fonts.code}, ${Math.round(fonts.codeWidth)} px wide) ` +
          `next to the page's textarea (font ${fonts.out}, ${Math.round(fonts.outWidth)} px): #pases-code has no type="text", ` +
          'so the stylesheet rule for input[type=text] does not reach it (nor input[type=number])',
      );
    }
    await page.setViewportSize({ width: 375, height: 800 });
    const wide = await page.evaluate(() => ({
      scroll: document.documentElement.scrollWidth,
      client: document.documentElement.clientWidth,
      pre: document.querySelector('pre')?.scrollWidth ?? 0,
    }));
    if (wide.scroll > wide.client) {
      notes.add(
        `at 375 px wide /e/demo/pases scrolls sideways (${wide.scroll} px of content in ${wide.client} px): ` +
          `the one-line <pre> with the command is ${wide.pre} px wide and the stylesheet has no rule for pre`,
      );
      await shot(page, 'pases-10-narrow.png', false);
    }
    await page.setViewportSize({ width: 1100, height: 900 });
    // Without the script the form stays hidden: the code cannot end up in
    // the address bar by pressing a button that does nothing else.
    check(
      'nojs: the pases form is hidden (nothing to press that would put the code in the address)',
      !(await page.locator('#pases').isVisible()) && !(await page.locator('#pases-code').isVisible()),
    );

    // The form asks for a pass.
    resp = await page.goto(`${base}/e/${SLUG}`);
    await noScriptElements(page, label);
    check('nojs: /e/demo answers 200', resp?.status() === 200, `${resp?.status()}`);
    const tokenBox = page.locator('form textarea[name=token]');
    check('nojs: the form has a `token` textarea, required', (await tokenBox.count()) === 1 && (await tokenBox.getAttribute('required')) !== null);
    check(
      'nojs: the form links to /e/demo/pases',
      (await page.locator(`form a[href="${PASES}"]`).count()) === 1,
    );
    if ((await page.getByRole('textbox', { name: 'Pase' }).count()) === 0) {
      const name = await tokenBox.evaluate((e) => e.labels?.length ?? 0).catch(() => 0);
      notes.add(
        `the token textarea has no accessible name (${name} <label>s; it sits in a fieldset whose legend is "Pase", ` +
          'which does not name the field): screen readers announce an unnamed edit field, and getByLabel("Pase") finds nothing',
      );
    }
    await page.getByLabel('Tu mensaje', { exact: true }).fill(MESSAGE);
    await tokenBox.fill(tokens[0]);
    await shot(page, 'pases-06-form-with-token.png');
    resp = await clickTo(page, page.getByRole('button', { name: 'Enviar de forma anónima' }), /\/e\/demo\/enviar$/);
    await noScriptElements(page, label);
    check('nojs: first token: the receipt comes (200 at /e/demo/enviar)', resp.status() === 200 && pathOf(page) === '/e/demo/enviar', `${resp.status()} ${page.url()}`);
    const words = (await page.locator('ol.receipt li').allTextContents()).map((w) => w.trim());
    check(
      'nojs: first token: receipt has ten words',
      words.length === 10 && words.every((w) => /^\p{L}+$/u.test(w.normalize('NFC'))),
      JSON.stringify(words),
    );
    await shot(page, 'pases-07-receipt.png');

    // The same token again, in a fresh form.
    resp = await page.goto(`${base}/e/${SLUG}`);
    await noScriptElements(page, label);
    await page.getByLabel('Tu mensaje', { exact: true }).fill(MESSAGE_SPENT);
    await tokenBox.fill(tokens[0]);
    expectedStatus.push({ label, path: '/e/demo/enviar', status: 409 });
    resp = await clickTo(page, page.getByRole('button', { name: 'Enviar de forma anónima' }), /\/e\/demo\/enviar$/);
    await noScriptElements(page, label);
    let err = page.locator('[data-error]');
    check('nojs: same token again: refused with 409', resp.status() === 409, `${resp.status()}`);
    check(
      'nojs: same token again: data-error="token-spent" with its message',
      (await err.count()) === 1 && (await err.getAttribute('data-error')) === 'token-spent' && (await err.innerText()).includes(ES.spent),
      (await err.count()) ? await err.first().innerText() : 'no [data-error]',
    );
    check(
      'nojs: same token again: the message is still in the textarea',
      (await page.locator('textarea#message').inputValue()).replace(/\r\n/g, '\n') === MESSAGE_SPENT,
      JSON.stringify(await page.locator('textarea#message').inputValue()),
    );
    check('nojs: same token again: the answer carries a PrivateToken challenge', /^PrivateToken /.test((await resp.allHeaders())['www-authenticate'] || ''));
    check('nojs: same token again: the receipt is not shown', (await page.locator('ol.receipt').count()) === 0);
    await reportFold(page, 'token-spent');
    await shot(page, 'pases-08-token-spent.png');

    // No pass at all: the browser itself holds the form back (required) ...
    await page.goto(`${base}/e/${SLUG}`);
    await page.getByLabel('Tu mensaje', { exact: true }).fill(MESSAGE_MISSING);
    const before = requests.length;
    await page.getByRole('button', { name: 'Enviar de forma anónima' }).click();
    await sleep(500);
    check(
      'nojs: no pass: the browser keeps the form back (required field), nothing is posted',
      pathOf(page) === `/e/${SLUG}` && !requests.slice(before).some((r) => r.method === 'POST') && (await page.locator('textarea[name=token]:invalid').count()) === 1,
      page.url(),
    );
    // ... and a blank one (spaces) reaches the server as no pass.
    await tokenBox.fill('   ');
    expectedStatus.push({ label, path: '/e/demo/enviar', status: 401 });
    resp = await clickTo(page, page.getByRole('button', { name: 'Enviar de forma anónima' }), /\/e\/demo\/enviar$/);
    await noScriptElements(page, label);
    err = page.locator('[data-error]');
    check('nojs: blank pass: refused with 401', resp.status() === 401, `${resp.status()}`);
    check(
      'nojs: blank pass: data-error="token-missing" with its message',
      (await err.count()) === 1 && (await err.getAttribute('data-error')) === 'token-missing' && (await err.innerText()).includes(ES.missing),
      (await err.count()) ? await err.first().innerText() : 'no [data-error]',
    );
    check(
      'nojs: blank pass: the message is still in the textarea',
      (await page.locator('textarea#message').inputValue()).replace(/\r\n/g, '\n') === MESSAGE_MISSING,
    );
    await reportFold(page, 'token-missing');
    await shot(page, 'pases-09-token-missing.png');

    // The third token (from the second run) opens a conversation too.
    await page.goto(`${base}/e/${SLUG}`);
    await page.getByLabel('Tu mensaje', { exact: true }).fill(MESSAGE_THIRD_TOKEN);
    await tokenBox.fill(`  ${tokens[2]}\n`);
    resp = await clickTo(page, page.getByRole('button', { name: 'Enviar de forma anónima' }), /\/e\/demo\/enviar$/);
    await noScriptElements(page, label);
    check(
      'nojs: the third token (second run, pasted with spaces and a newline) gives a receipt',
      resp.status() === 200 && (await page.locator('ol.receipt li').count()) === 10,
      `${resp.status()}`,
    );

    // Home and return page, for the no-script sweep.
    for (const p of ['/', '/r']) {
      await page.goto(`${base}${p}`);
      await noScriptElements(page, label);
    }
    await ctx.close();

    const pases = pasesScripts.filter((s) => s.label === label);
    check(
      'nojs: /e/demo/pases is the one page sent with a <script> (exactly one, src=/static/pases.js)',
      pases.length >= 1 && pases.every((s) => s.sent === 1 && /<script src="\/static\/pases\.js"><\/script>/.test(s.body)),
      JSON.stringify(pases.map((s) => s.sent)),
    );
    const docs = new Set(requests.filter((r) => r.label === label && r.type === 'document').map((r) => r.path));
    check('nojs: pages swept for scripts: ' + [...docs].sort().join(' '), docs.size >= 4);
  }
}

/** Notes when a refusal's message is out of sight on the page as it opens. */
async function reportFold(page, code) {
  const box = await page.locator(`[data-error="${code}"]`).boundingBox();
  const vh = page.viewportSize()?.height ?? 0;
  if (box && box.y > vh) {
    const h = await page.evaluate(() => document.documentElement.scrollHeight).catch(() => 0);
    notes.add(
      `the ${code} refusal opens at the top of /e/demo/enviar, but its message is at y=${Math.round(box.y)} px ` +
        `of a ${h} px page (viewport ${vh} px): out of sight until the person scrolls; the form's action has no #escribir`,
    );
  }
}

// ------------------------------------------------------------------ main

let server = null;
let browser = null;
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

const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'buzon-pases-'));
try {
  await fs.mkdir(OUT, { recursive: true });
  const dataDir = path.join(tmp, 'data');
  server = await startServer(dataDir);
  check('server started and answers GET /', server.answered, server.exited() ? `exited ${JSON.stringify(server.exited())}` : 'no answer in 30 s');

  // 1. The entity asks for tokens; one code good for three.
  const pol = await cli(dataDir, ['token', 'policy', '--entity', SLUG, 'token']);
  check('cli: `token policy --entity demo token` succeeds', pol.code === 0 && /token/.test(pol.out), JSON.stringify(pol));
  const codes = await cli(dataDir, ['token', 'codes', '--entity', SLUG, '--count', '1', '--tokens-per-code', String(TOKENS_PER_CODE)]);
  const code = codes.out.trim();
  check(
    'cli: `token codes --count 1 --tokens-per-code 3` prints one code',
    codes.code === 0 && code.split('\n').length === 1 && /^[0-9A-Z]{4}(-[0-9A-Z]{4})+$/.test(code),
    JSON.stringify(codes),
  );
  // What the page's script will be given: the entity's type-1 challenge.
  const doc = await (await fetch(`${server.base}${CHALLENGE}`)).json();
  const c1 = (doc.challenges || []).find((c) => c['token-type'] === 1);
  check('the challenge endpoint says policy token and has a type-1 challenge', doc.policy === 'token' && !!c1, JSON.stringify(doc));
  const issuer = { challenge: b64urlDecode(c1?.challenge || ''), key: b64urlDecode(c1?.['token-key'] || '') };

  if (server.answered && codes.code === 0 && c1) {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    try {
      await run(browser, server, code, issuer);
    } catch (e) {
      check('the walk through the pages completed', false, e.stack || String(e));
    }
    check('harness: the DevTools network log saw the script', [...seenByDevtools].some((u) => u.endsWith('/static/pases.js')));
    check('every request went to the server origin', problems.foreign.length === 0, problems.foreign.join('; '));
    check('no page but /e/demo/pases contained a <script> element', problems.scripts.length === 0, problems.scripts.join('; '));
    check("every other page's CSP allows no script (default-src 'none', no script-src)", problems.csp.length === 0, problems.csp.join('; '));
    check('no console message, page error, dialog or CSP violation', problems.console.length === 0, problems.console.join('; '));
    check('no page answered with an unexpected error status', problems.badStatus.length === 0, problems.badStatus.join('; '));
    const otherSub = problems.subresources.filter((r) => new URL(r.url).pathname !== '/favicon.ico');
    check(
      'no stylesheet, script or other sub-resource answered with an error status',
      otherSub.length === 0,
      otherSub.map((r) => `${r.label}: ${r.status} ${r.url}`).join('; '),
    );
  }
} catch (e) {
  check('test harness', false, e.stack || String(e));
} finally {
  for (const n of notes) console.log(`note  ${n}`);
  if (browser) await browser.close().catch(() => {});
  await stopServer(server);
  if (harness.failures() > 0 && server) {
    const tail = (s) => s.split('\n').slice(-20).join('\n');
    console.log('--- server stdout (last lines)\n' + tail(server.log.out));
    console.log('--- server stderr (last lines)\n' + tail(server.log.err));
  }
  await fs.rm(tmp, { recursive: true, force: true });
}
finish();

// End-to-end test of buzon in headless Chromium with JavaScript disabled.
//
//   node tests/browser/e2e.mjs path/to/buzon-binary
//
// Starts `buzon serve --demo` on a free loopback port with a fresh data
// directory, then walks one whole conversation through the pages as four
// people would: a reporter sends a claim with an attachment and keeps the
// receipt, the coordinator signs in, changes the one-time password and
// assigns the advisor, the advisor downloads the attachment and replies,
// and the reporter comes back with the receipt and reads the reply.
//
// Every browser context runs with JavaScript disabled. Every request a page
// makes is recorded and must go to the server's own origin; no page may
// contain a <script> element, and no console message or page error may
// appear. Screenshots go to tests/browser/out/.
//
// Prints one line per check and ends with `N passed, M failed`; exits
// non-zero on any failure. The server is always stopped.

import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as harness from '../harness.mjs';
import { check, finish, sleep, stopServer } from '../harness.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const OUT = path.join(HERE, 'out');

// ------------------------------------------------------------------ arguments and prerequisites

const BINARY = harness.binaryFromArgs('tests/browser/e2e.mjs');

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

const MESSAGE =
  'En la Dirección de Compras se aceptó un regalo de un proveedor: una cámara y dos botellas.\n' +
  'Texto con marcas que deben verse tal cual: <b>etiqueta</b> & "comillas" — ¿qué hago? Año 2026, señora Núñez.';
const FILE_NAME = 'notas-reunión.txt';
const FILE_BYTES = Buffer.concat([
  Buffer.from('Notas de la reunión del 3 de diciembre\nPresentes: área de compras\n', 'utf8'),
  Buffer.from(Array.from({ length: 256 }, (_, i) => i)),
]);
const COORD_PASSWORD = 'vereda-lámpara-octubre-nogal-93';
const ADVISOR_PASSWORD = 'sendero-brújula-marzo-cedro-47';
const REPLY = 'Gracias, te orientamos.';
const ENTITY_NAME = 'Secretaría de Ejemplo (demostración)';
const ADVISOR_NAME = 'Asesoría en Ética (demo)';
const COORD_NAME = 'Coordinación de Ética (demo)';

// ------------------------------------------------------------------ server


/** Starts the server; resolves with { proc, base, passwords, log, … }:
 * the demo staff's one-time passwords are read from its output. */
async function startServer(dataDir) {
  const server = await harness.startServer(BINARY, dataDir);
  const passwords = {};
  const re = /^\s*(coordinator|advisor)\s+user\s+(\S+)\s+one-time password\s+(\S+)\s*$/gm;
  for (const m of server.log.out.matchAll(re)) passwords[m[1]] = { login: m[2], password: m[3] };
  return { ...server, passwords };
}

// ------------------------------------------------------------------ browser watching

const problems = {
  foreign: [], // requests to another origin
  scripts: [], // pages that carried a <script> element
  console: [], // console messages, page errors, dialogs
  badStatus: [], // documents answered with an unexpected status
  subresources: [], // other requests answered with 4xx/5xx
};
// Every URL the DevTools network log saw (to show the watch works).
const seenByDevtools = new Set();
// Observations that are not failures (printed as `note` lines).
const notes = new Set();

/** A context with JavaScript off whose every page is watched. */
async function watchedContext(browser, base, label) {
  const origin = new URL(base).origin;
  const ctx = await browser.newContext({
    javaScriptEnabled: false,
    acceptDownloads: true,
    locale: 'es-MX',
    viewport: { width: 1100, height: 900 },
  });
  ctx.on('request', (req) => {
    const url = req.url();
    let o = null;
    try {
      o = new URL(url).origin;
    } catch {
      // leave null
    }
    if (o !== origin) problems.foreign.push(`${label}: ${req.method()} ${url}`);
  });
  // Response bodies are read in the background; close waits for them.
  const pending = new Set();
  const close = ctx.close.bind(ctx);
  ctx.close = async () => {
    await Promise.allSettled([...pending]);
    await close();
  };
  ctx.on('response', (resp) => {
    const job = inspectResponse(resp);
    pending.add(job);
    job.finally(() => pending.delete(job));
  });
  async function inspectResponse(resp) {
    const req = resp.request();
    if (req.resourceType() !== 'document') {
      if (resp.status() >= 400) problems.subresources.push({ label, status: resp.status(), url: resp.url() });
      return;
    }
    const url = resp.url();
    // A download is a document navigation too; it carries no page.
    const disp = resp.headers()['content-disposition'] || '';
    if (disp.startsWith('attachment')) return;
    if (resp.status() >= 400) problems.badStatus.push(`${label}: ${resp.status()} ${url}`);
    try {
      const body = await resp.text();
      if (/<script\b/i.test(body)) problems.scripts.push(`${label}: ${url} (in the HTML sent)`);
    } catch {
      // redirects have no body
    }
  }
  // Playwright's request event misses requests the browser makes on its
  // own for a page (the favicon): watch the DevTools network log too.
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
        // Chromium's own form linter, not a script: worth reading, not a failure.
        notes.add(`chromium hint on ${new URL(page.url()).pathname}: ${m.text()}`);
      } else if (/^Failed to load resource/.test(m.text())) {
        // Chromium asks every origin for /favicon.ico by itself, outside
        // the page; buzon has none. Anything else failing is a failure.
        const url = m.location()?.url || '';
        let p = '';
        try {
          p = new URL(url).pathname;
        } catch {
          // leave empty
        }
        if (p === '/favicon.ico') notes.add(`the browser's own GET /favicon.ico: ${m.text()}`);
        else problems.console.push(`${text} (${url})`);
      } else {
        problems.console.push(text);
      }
    });
    page.on('pageerror', (e) => problems.console.push(`${label}: page error: ${e.message}`));
    page.on('dialog', (d) => {
      problems.console.push(`${label}: dialog: ${d.message()}`);
      d.dismiss().catch(() => {});
    });
  });
  return ctx;
}

/** Counts <script> elements in the rendered page (also after navigation). */
async function noScriptElements(page, label) {
  const n = await page.locator('script').count();
  if (n > 0) problems.scripts.push(`${label}: ${page.url()} (${n} in the DOM)`);
}

/** Clicks and waits for the page to land on a URL matching `to`. */
async function clickTo(page, locator, to) {
  await Promise.all([page.waitForURL(to, { waitUntil: 'load' }), locator.click()]);
}

function pathOf(page) {
  return new URL(page.url()).pathname;
}

async function shot(page, name) {
  const file = path.join(OUT, name);
  await page.screenshot({ path: file, fullPage: true });
  console.log(`      screenshot ${path.relative(process.cwd(), file)}`);
}

function stripAccents(s) {
  return s.normalize('NFD').replace(/[\u0300-\u036f]/g, '');
}

// ------------------------------------------------------------------ the walk

async function signInStaff(page, base, who, newPassword, label, shots = false) {
  await page.goto(`${base}/staff/login`);
  await noScriptElements(page, label);
  if (shots) await shot(page, '04-staff-login.png');
  await page.getByLabel('Usuario', { exact: true }).fill(who.login);
  await page.getByLabel('Contraseña', { exact: true }).fill(who.password);
  await clickTo(page, page.getByRole('button', { name: 'Entrar' }), /\/staff\/clave$/);
  check(`${label}: one-time password sends to /staff/clave`, pathOf(page) === '/staff/clave', page.url());
  await noScriptElements(page, label);
  check(
    `${label}: password page says a new one is required`,
    (await page.locator('main').innerText()).includes('Debes elegir una contraseña nueva'),
  );
  if (shots) await shot(page, '05-staff-password.png');
  await page.getByLabel(/^Contraseña actual/).fill(who.password);
  await page.getByLabel('Contraseña nueva', { exact: true }).fill(newPassword);
  await page.getByLabel('Repítela', { exact: true }).fill(newPassword);
  await clickTo(page, page.getByRole('button', { name: 'Guardar contraseña' }), /\/staff$/);
  check(`${label}: new password accepted, lands on /staff`, pathOf(page) === '/staff', page.url());
  await noScriptElements(page, label);
  if (shots) await shot(page, '06-staff-list.png');
}

async function openOnlyThread(page, label) {
  const rows = page.locator('table tbody tr');
  check(`${label}: the list shows exactly one conversation`, (await rows.count()) === 1, `${await rows.count()} rows`);
  const row = await rows.first().innerText();
  check(`${label}: the listed conversation is a Denuncia`, row.includes('Denuncia'), row);
  await clickTo(page, rows.first().getByRole('link', { name: 'Abrir' }), /\/staff\/t\/[0-9a-f]+$/);
  await noScriptElements(page, label);
  check(`${label}: thread page opened`, /^\/staff\/t\/[0-9a-f]+$/.test(pathOf(page)), page.url());
}

async function messageShownAsText(page, label) {
  const text = page.locator('article.from-reporter .text').first();
  const content = (await text.textContent()) ?? '';
  const norm = content.replace(/\r\n/g, '\n');
  check(`${label}: message text shows <b>etiqueta</b> literally`, norm.includes('<b>etiqueta</b>'), JSON.stringify(content));
  check(`${label}: no <b> element was made from the message`, (await text.locator('b').count()) === 0);
  check(`${label}: message arrives whole (accents, line break, quotes)`, norm.trim() === MESSAGE, JSON.stringify(norm));
  const rendered = await text.innerText();
  check(
    `${label}: the line break is visible`,
    rendered.split('\n').filter((l) => l.trim()).length >= 2,
    JSON.stringify(rendered),
  );
}

async function run(browser, server) {
  const { base, passwords } = server;
  const tmp = server.tmp;
  const filePath = path.join(tmp, FILE_NAME);
  await fs.writeFile(filePath, FILE_BYTES);

  // ---------------------------------------------------------- the harness itself: JS really is off
  {
    const ctx = await browser.newContext({ javaScriptEnabled: false });
    const page = await ctx.newPage();
    let ran = false;
    page.on('console', () => (ran = true));
    await page.setContent('<p>x</p><script>console.log("ran")</script>');
    await sleep(200);
    check('harness: a context with javaScriptEnabled:false runs no script', !ran);
    check('harness: <script> elements are counted with JavaScript off', (await page.locator('script').count()) === 1);
    await ctx.close();
  }

  // ---------------------------------------------------------- the harness itself: another origin is caught
  {
    // The same server under another name is another origin.
    const other = base.replace('127.0.0.1', 'localhost');
    const ctx = await watchedContext(browser, base, 'harness');
    const page = await ctx.newWatchedPage();
    await page.goto(`${other}/`).catch(() => {});
    await ctx.close();
    const caught = problems.foreign.filter((f) => f.startsWith('harness:'));
    problems.foreign = problems.foreign.filter((f) => !f.startsWith('harness:'));
    problems.scripts = problems.scripts.filter((f) => !f.startsWith('harness:'));
    problems.console = problems.console.filter((f) => !f.startsWith('harness:'));
    problems.badStatus = problems.badStatus.filter((f) => !f.startsWith('harness:'));
    problems.subresources = problems.subresources.filter((r) => r.label !== 'harness');
    check(
      'harness: a request to another origin is caught (page and stylesheet, both logs)',
      caught.filter((f) => f.includes('/static/buzon.css')).length >= 2,
      caught.join('; '),
    );
  }

  // ---------------------------------------------------------- 3. reporter sends a claim
  let words;
  {
    const label = 'reporter';
    const ctx = await watchedContext(browser, base, label);
    const page = await ctx.newWatchedPage();
    const resp = await page.goto(`${base}/`);
    check('reporter: home page answers 200', resp?.status() === 200, `${resp?.status()}`);
    await noScriptElements(page, label);
    const entityLink = page.getByRole('link', { name: ENTITY_NAME });
    check('reporter: home page lists the demo entity', (await entityLink.count()) === 1);
    await clickTo(page, entityLink, /\/e\/demo$/);
    await noScriptElements(page, label);
    check('reporter: entity page is /e/demo', pathOf(page) === '/e/demo', page.url());
    await shot(page, '01-entity-form.png');

    const claim = page.getByRole('radio', { name: /^Denuncia/ });
    await claim.check();
    check('reporter: "Denuncia" radio chosen through its label', await claim.isChecked());
    const coordBox = page.getByRole('checkbox', { name: COORD_NAME });
    check('reporter: coordinator listed as a reader, checked by default', (await coordBox.count()) === 1 && (await coordBox.isChecked()));
    await page.getByLabel('Tu mensaje', { exact: true }).fill(MESSAGE);
    await page.getByLabel('Archivos (opcional)', { exact: true }).setInputFiles(filePath);
    await clickTo(page, page.getByRole('button', { name: 'Enviar de forma anónima' }), /\/e\/demo\/enviar(#escribir)?$/);
    await noScriptElements(page, label);
    check('reporter: the receipt comes in the response to the form', pathOf(page) === '/e/demo/enviar', page.url());
    check('reporter: receipt page says the message was sent', (await page.locator('[role=status]').innerText()).includes('Tu mensaje se envió'));
    words = (await page.locator('ol.receipt li').allTextContents()).map((w) => w.trim());
    check(
      'reporter: receipt has ten words',
      words.length === 10 && words.every((w) => /^\p{L}+$/u.test(w.normalize('NFC'))),
      JSON.stringify(words),
    );
    const decomposed = words.filter((w) => w !== w.normalize('NFC'));
    if (decomposed.length > 0) {
      notes.add(
        `receipt words are sent in decomposed Unicode (NFD), e.g. ${JSON.stringify(decomposed[0])} ` +
          `is ${[...decomposed[0]].length} code points, not ${[...decomposed[0].normalize('NFC')].length}`,
      );
    }
    await shot(page, '02-receipt.png');

    const ask = await page.locator('label[for=word]').innerText();
    const m = /palabra número (\d+)/.exec(ask);
    check('reporter: receipt page asks for one word by number', m !== null, JSON.stringify(ask));
    const n = m ? Number(m[1]) : 1;
    await page.getByLabel(/palabra número/).fill(words[n - 1] ?? '');
    await clickTo(page, page.getByRole('button', { name: 'Confirmar' }), /\/r\/hilo/);
    await noScriptElements(page, label);
    check('reporter: confirming the word lands on /r/hilo', pathOf(page) === '/r/hilo', page.url());
    check(
      'reporter: thread page confirms the receipt was saved',
      (await page.locator('main').innerText()).includes('confirmaste que guardaste tu recibo'),
    );
    const facts = await page.locator('dl.facts').innerText();
    check('reporter: thread shows kind Denuncia and status Recibida', facts.includes('Denuncia') && facts.includes('Recibida'), JSON.stringify(facts));
    await messageShownAsText(page, label);
    check(
      'reporter: own attachment listed',
      (await page.getByRole('link', { name: FILE_NAME }).count()) === 1,
    );
    await shot(page, '03-reporter-thread-after-sending.png');
    await ctx.close();
  }

  // ---------------------------------------------------------- 4. coordinator
  {
    const label = 'coordinator';
    check('server printed the coordinator one-time password', !!passwords.coordinator);
    const ctx = await watchedContext(browser, base, label);
    const page = await ctx.newWatchedPage();
    await signInStaff(page, base, passwords.coordinator, COORD_PASSWORD, label, true);
    await openOnlyThread(page, label);
    await messageShownAsText(page, label);
    check('coordinator: attachment listed', (await page.getByRole('link', { name: FILE_NAME }).count()) === 1);
    // Each option says how the advisor reads: "Name (lee a través del servidor)".
    const advisorSelect = page.getByLabel('Persona asesora', { exact: true });
    const optionLabel = `${ADVISOR_NAME} (lee a través del servidor)`;
    check('coordinator: the advisor option says how they read',
      (await advisorSelect.locator('option', { hasText: optionLabel }).count()) === 1);
    await advisorSelect.selectOption({ label: optionLabel });
    const threadUrl = page.url();
    await clickTo(page, page.getByRole('button', { name: 'Asignar', exact: true }), threadUrl + '?hecho=1');
    await noScriptElements(page, label);
    const readers = await page.locator('section', { has: page.getByRole('heading', { name: /Quién puede leer/ }) }).innerText();
    check('coordinator: advisor now among the readers', readers.includes(ADVISOR_NAME), JSON.stringify(readers));
    check(
      'coordinator: advisor shown with an "unassign" button',
      (await page.getByRole('button', { name: 'Quitar asignación' }).count()) === 1,
    );
    await shot(page, '07-coordinator-thread.png');
    await ctx.close();
  }

  // ---------------------------------------------------------- 5. advisor
  {
    const label = 'advisor';
    check('server printed the advisor one-time password', !!passwords.advisor);
    const ctx = await watchedContext(browser, base, label);
    const page = await ctx.newWatchedPage();
    await signInStaff(page, base, passwords.advisor, ADVISOR_PASSWORD, label);
    await openOnlyThread(page, label);
    await messageShownAsText(page, label);
    const link = page.getByRole('link', { name: FILE_NAME });
    const [download] = await Promise.all([page.waitForEvent('download'), link.click()]);
    const got = await fs.readFile(await download.path());
    check('advisor: downloaded attachment equals the uploaded bytes', got.equals(FILE_BYTES), `${got.length} bytes vs ${FILE_BYTES.length}`);
    check('advisor: download keeps the file name', download.suggestedFilename() === FILE_NAME, download.suggestedFilename());
    check('advisor: still on the thread page after the download', /^\/staff\/t\//.test(pathOf(page)), page.url());
    await page.getByLabel('Tu respuesta', { exact: true }).fill(REPLY);
    const threadUrl = page.url();
    await clickTo(page, page.getByRole('button', { name: 'Enviar respuesta' }), threadUrl);
    await noScriptElements(page, label);
    const staffMsgs = await page.locator('article.from-staff').allInnerTexts();
    check('advisor: reply shown in the thread', staffMsgs.some((t) => t.includes(REPLY)), JSON.stringify(staffMsgs));
    await shot(page, '08-advisor-thread.png');
    await ctx.close();
  }

  // ---------------------------------------------------------- 6. reporter comes back
  {
    const label = 'reporter-again';
    const ctx = await watchedContext(browser, base, label);
    const page = await ctx.newWatchedPage();
    await page.goto(`${base}/r`);
    await noScriptElements(page, label);
    const typed = stripAccents(words.join('  ')).toUpperCase();
    await page.getByLabel('Recibo', { exact: true }).fill(typed);
    await shot(page, '09-return-with-receipt.png');
    await clickTo(page, page.getByRole('button', { name: 'Entrar' }), /\/r\/hilo$/);
    await noScriptElements(page, label);
    check('reporter: UPPER-CASE receipt without accents opens /r/hilo', pathOf(page) === '/r/hilo', `${page.url()} after typing ${typed}`);
    const reply = page.locator('article.from-staff');
    const texts = await reply.allInnerTexts();
    check('reporter: reads the advisor reply', texts.some((t) => t.includes(REPLY)), JSON.stringify(texts));
    check('reporter: reply is signed by the advisor', texts.some((t) => t.includes(ADVISOR_NAME)), JSON.stringify(texts));
    await messageShownAsText(page, label);
    const readers = await page.locator('section', { has: page.getByRole('heading', { name: /Quién puede leer/ }) }).innerText();
    check('reporter: advisor listed among who can read', readers.includes(ADVISOR_NAME), JSON.stringify(readers));
    await shot(page, '10-reporter-thread-with-reply.png');
    await ctx.close();
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

const tmp = await fs.mkdtemp(path.join(os.tmpdir(), 'buzon-e2e-'));
try {
  await fs.mkdir(OUT, { recursive: true });
  server = await startServer(path.join(tmp, 'data'));
  server.tmp = tmp;
  check('server started and answers GET /', server.answered, server.exited() ? `exited ${JSON.stringify(server.exited())}` : 'no answer in 30 s');
  check(
    'server printed both demo one-time passwords',
    !!(server.passwords.coordinator && server.passwords.advisor),
    JSON.stringify(server.log.out),
  );
  for (const [role, who] of Object.entries(server.passwords)) {
    if (who.password !== who.password.normalize('NFC')) {
      notes.add(
        `the ${role} one-time password is printed in decomposed Unicode (NFD); ` +
          'a person who types its accents on a keyboard sends NFC',
      );
    }
  }
  if (server.answered) {
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
      await run(browser, server);
    } catch (e) {
      check('the walk through the pages completed', false, e.stack || String(e));
    }
    check(
      'harness: the DevTools network log saw the stylesheet',
      [...seenByDevtools].some((u) => u.endsWith('/static/buzon.css')),
    );
    check('every request went to the server origin', problems.foreign.length === 0, problems.foreign.join('; '));
    check('no page contained a <script> element', problems.scripts.length === 0, problems.scripts.join('; '));
    const otherSub = problems.subresources.filter((r) => new URL(r.url).pathname !== '/favicon.ico');
    check('no console message, page error or dialog', problems.console.length === 0, problems.console.join('; '));
    check('no page answered with an error status', problems.badStatus.length === 0, problems.badStatus.join('; '));
    check(
      'no stylesheet or other sub-resource answered with an error status',
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

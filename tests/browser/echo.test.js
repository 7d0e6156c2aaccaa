#!/usr/bin/env node
/* echo.test.js - Chromium's own WebSocket against a wsc server.
 *
 *   node tests/browser/echo.test.js --server build/tests/browser/browser_echo_server
 *
 * Starts browser_echo_server (tests/browser/browser_echo_server.c), which
 * serves echo_page/ with wsc's HTTP handler and echoes on /echo, opens the
 * page in headless Chromium (Debian's, through playwright-core), and checks:
 *   - the page connects with subprotocols [wsc-echo, other]: both ends agree
 *     on wsc-echo and on the extensions string;
 *   - text (ASCII, multi-byte UTF-8, 160 KiB of 4-byte characters) and binary
 *     (ArrayBuffer: empty, 3 octets, 1 MiB patterned, 1 MiB random) echo
 *     exactly;
 *   - the page closes with 4001 "bye from chromium": the server sees that
 *     code and reason with wasClean, the page sees the server's answer (4001,
 *     clean);
 *   - the server closes with 4002 "bye from server": the page sees it;
 *   - with --deflate (permessage-deflate; Chromium always offers it): the
 *     page's ws.extensions is exactly the server's wsc_socket_extensions()
 *     and the same messages still echo.
 * Every process it starts is stopped by PID. Exit status 77 (CTest:
 * skipped) when Chromium or playwright-core is missing.
 */
'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..', '..');
const browserlib = require('./browser.js');
const STEP_MS = 20000; // any one expected event (generous: CI machines are busy)
const PAGE_DIR = path.join(__dirname, 'echo_page');

const { argValue } = browserlib;
const SERVER = path.resolve(argValue('--server', path.join(ROOT, 'build', 'tests', 'browser', 'browser_echo_server')));

const playwright = browserlib.requirePlaywright('echo.test.js');

/* ---- the server process ---------------------------------------------------- */

/* Starts the server; resolves with it once it printed LISTEN (child.url). */
async function startServer(args) {
  const child = await browserlib.startChild(SERVER, args, /^LISTEN (\S+)/, 'browser_echo_server', STEP_MS);
  child.url = child.match[1];
  return child;
}

/* The first line starting with prefix printed from line index `from` on. */
function waitLine(child, prefix, from) {
  return browserlib.waitLine(child, (l) => l.startsWith(prefix), STEP_MS, from);
}

function launch() {
  return browserlib.launch(playwright);
}

async function openPage(browser, url) {
  const page = await browser.newPage();
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(String(e)));
  page.setDefaultTimeout(STEP_MS);
  const resp = await page.goto(url);
  assert.equal(resp.status(), 200, 'the page comes from wsc_request_serve_file');
  assert.match(resp.headers()['content-type'] || '', /^text\/html/);
  await page.waitForSelector('body[data-state="loaded"]', { timeout: STEP_MS });
  return page;
}

const ITEMS = [
  'hello',
  'héllo wörld – 你好 – 🎉',
  '€😀'.repeat(27000), // 189 KiB of 3- and 4-byte UTF-8
  { binary: 0 },
  { binary: 3 },
  { binary: 1 << 20, kind: 'pattern' },
  { binary: 1 << 20, kind: 'random' },
];

/* Connect, compare the negotiated values on both ends, exchange ITEMS. */
async function connectAndEcho(page, server) {
  const mark = server.lines.length;
  const got = await page.evaluate((p) => window.echoConnect(p), ['wsc-echo', 'other']);
  assert.equal(got.protocol, 'wsc-echo');
  const open = await waitLine(server, 'OPEN ', mark);
  assert.equal(open, `OPEN path=/echo protocol=wsc-echo extensions=${got.extensions}`,
    'the server and the page agree on protocol and extensions');
  const results = await page.evaluate((items) => window.echoExchange(items), ITEMS);
  for (const r of results) assert.match(r, /^ok /, r);
  assert.equal(results.length, ITEMS.length);
  return got;
}

async function clientCloses(page, server) {
  const mark = server.lines.length;
  const ev = await page.evaluate(() => window.echoClose(4001, 'bye from chromium'));
  // the page's close event carries the server's answering Close: wsc
  // echoes the code (RFC 6455 5.5.1); the reason in it is the server's own
  assert.equal(ev.code, 4001, "the server's answer echoes the code");
  assert.equal(ev.wasClean, true);
  assert.equal(typeof ev.reason, 'string');
  const line = await waitLine(server, 'CLOSE ', mark);
  assert.equal(line, 'CLOSE code=4001 reason=bye from chromium clean=1');
}

async function serverCloses(page, server) {
  await page.evaluate((p) => window.echoConnect(p), ['wsc-echo']);
  const mark = server.lines.length;
  await page.evaluate(() => window.echoSend('close-me 4002 bye from server'));
  const ev = await page.evaluate(() => window.echoClose());
  assert.deepEqual(ev, { code: 4002, reason: 'bye from server', wasClean: true });
  const line = await waitLine(server, 'CLOSE ', mark);
  assert.equal(line, 'CLOSE code=4002 reason=bye from server clean=1');
}

test('Chromium WebSocket against a wsc server', { timeout: 120000 }, async (t) => {
  const server = await startServer(['--root', PAGE_DIR]);
  const browser = await launch();
  try {
    const page = await openPage(browser, server.url);
    await t.test('subprotocol, text and binary echo, 1 MiB messages', async () => {
      const got = await connectAndEcho(page, server);
      assert.equal(got.extensions, '', 'no extension without --deflate');
    });
    await t.test('the page closes with 4001 and a reason', () => clientCloses(page, server));
    await t.test('the server closes with 4002 and a reason', () => serverCloses(page, server));
    assert.deepEqual(page.errors, []);
  } finally {
    await browser.close();
    server.kill('SIGTERM');
  }
});

test('Chromium WebSocket with permessage-deflate', { timeout: 120000 }, async (t) => {
  const server = await startServer(['--root', PAGE_DIR, '--deflate']);
  const browser = await launch();
  try {
    const page = await openPage(browser, server.url);
    await t.test('extensions agree exactly and messages echo', async (t) => {
      const got = await connectAndEcho(page, server);
      assert.match(got.extensions, /^permessage-deflate/, 'Chromium offers it, the server accepts');
      t.diagnostic(`extensions: ${got.extensions}`);
    });
    await t.test('the page closes with 4001 and a reason', () => clientCloses(page, server));
    assert.deepEqual(page.errors, []);
  } finally {
    await browser.close();
    server.kill('SIGTERM');
  }
});

#!/usr/bin/env node
/* chat.test.js - the chat page in headless Chromium against `wsc chat`.
 *
 *   node tests/browser/chat.test.js [--wsc build/wsc] [--screenshot FILE]
 *
 * Starts `wsc chat --listen 127.0.0.1:0` (address read from what it prints),
 * drives Debian's Chromium through playwright-core (no browser download),
 * and stops every process it started by PID. Checks:
 *   - two pages log in with the same name: the second becomes alice2; both
 *     see both names in #userlistbox; messages go both ways;
 *   - a terminal client (`wsc chat-client`) joins: the pages list it, its
 *     lines appear in the pages, the pages' messages reach it;
 *   - HTML in messages is shown as text: tags the server leaves (none
 *     survive its stripping, so entities and lone '<' are checked) and, with
 *     a stand-in server that sends raw HTML in every field, that the page
 *     itself never turns text into markup;
 *   - the server goes away: the page shows it, reconnects with backoff when
 *     the server is back on the same port, and logs in again by itself;
 *   - on a phone-sized viewport nothing overflows sideways.
 * Exit status 77 (CTest: skipped) when Chromium or playwright-core is missing.
 */
'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const http = require('node:http');
const path = require('node:path');

const ROOT = path.resolve(__dirname, '..', '..');
const browserlib = require('./browser.js');
const STEP_MS = 20000; // any one expected change on a page (generous: CI machines are busy)

const { argValue } = browserlib;
const WSC = path.resolve(argValue('--wsc', path.join(ROOT, 'build', 'wsc')));
const SCREENSHOT = argValue('--screenshot', process.env.WSC_CHAT_SCREENSHOT || '');

const playwright = browserlib.requirePlaywright('chat.test.js');

/* ---- processes ------------------------------------------------------------ */

function startChild(cmd, args, re, what) {
  return browserlib.startChild(cmd, args, re, what, STEP_MS, 'pipe');
}

/* Resolves when the child prints a line containing text (also one already
 * printed); rejects after STEP_MS. */
function waitLine(child, text) {
  return browserlib.waitLine(child, text, STEP_MS);
}

/* SIGTERM, then resolves with the exit code (SIGKILL after 5 s). */
function stopChild(child) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', (code) => { clearTimeout(timer); resolve(code); });
    child.kill('SIGTERM');
  });
}

function startServer(listen) {
  return startChild(WSC, ['chat', '--listen', listen], /^chat server listening on (http:\/\/([0-9.]+):(\d+)\/)$/, 'wsc chat');
}

/* ---- pages -------------------------------------------------------------- */

function launch() {
  return browserlib.launch(playwright);
}

async function openPage(browser, url, viewport) {
  const context = await browser.newContext({ viewport: viewport || { width: 900, height: 560 } });
  const page = await context.newPage();
  page.errors = [];
  page.on('pageerror', (e) => page.errors.push(String(e)));
  page.on('dialog', (d) => { page.errors.push(`dialog: ${d.message()}`); d.dismiss(); });
  await page.goto(url);
  await page.waitForSelector('body[data-state="open"]', { timeout: STEP_MS });
  return page;
}

async function login(page, name) {
  await page.fill('#name', name);
  await page.click('#login');
  await page.waitForSelector('#send:not([disabled])', { timeout: STEP_MS });
}

async function say(page, text) {
  await page.fill('#text', text);
  await page.click('#send');
}

/* Waits until the page's user list is exactly names (in order, unless
 * anyOrder). */
async function waitUsers(page, names, anyOrder) {
  await page.waitForFunction(
    ([want, sort]) => {
      const got = [...document.querySelectorAll('#userlistbox li')].map((li) => li.textContent);
      return JSON.stringify(sort ? got.sort() : got) === want;
    },
    [JSON.stringify(anyOrder ? [...names].sort() : names), !!anyOrder], { timeout: STEP_MS }).catch(async () => {
    const got = await page.$$eval('#userlistbox li', (lis) => lis.map((li) => li.textContent));
    throw new Error(`user list ${JSON.stringify(got)}, expected ${JSON.stringify(names)}`);
  });
}

/* Waits until a chat line shows exactly "<who> <text>" (name and text spans). */
async function waitMessage(page, who, text) {
  await page.waitForFunction(
    ([w, t]) => [...document.querySelectorAll('#chatbox .msg')].some((m) =>
      m.querySelector('.who') && m.querySelector('.who').textContent === w &&
      m.querySelector('.text').textContent === t),
    [who, text], { timeout: STEP_MS }).catch(async () => {
    const got = await page.$eval('#chatbox', (c) => c.innerText);
    throw new Error(`no message ${who}: ${JSON.stringify(text)} in chatbox:\n${got}`);
  });
}

/* Elements a message could have smuggled into the chat box or user list. */
async function injected(page) {
  return page.evaluate(() => ({
    elements: document.querySelectorAll('#chatbox img, #chatbox script, #chatbox b, #chatbox iframe, ' +
      '#userlistbox img, #userlistbox b, #userlistbox script').length,
    pwned: window.__pwned === true,
  }));
}

/* ---- the tests ---------------------------------------------------------- */

test('chat page against wsc chat', { timeout: 150000 }, async (t) => {
  const server = await startServer('127.0.0.1:0');
  const url = server.match[1];
  const port = server.match[3];
  const browser = await launch();
  let terminal = null;
  try {
    const alice = await openPage(browser, url);
    const bob = await openPage(browser, url);

    await t.test('two pages log in with the same name; the second is renamed', async () => {
      await login(alice, 'alice');
      await waitUsers(alice, ['alice']);
      await login(bob, 'alice');
      await bob.waitForFunction(() => document.getElementById('name').value === 'alice2', null, { timeout: STEP_MS });
      await waitUsers(alice, ['alice', 'alice2']);
      await waitUsers(bob, ['alice', 'alice2']);
      assert.equal(await bob.$eval('#userlistbox li.me', (li) => li.textContent), 'alice2');
    });

    await t.test('messages go both ways', async () => {
      await say(alice, 'hello from alice');
      await waitMessage(bob, 'alice', 'hello from alice');
      await waitMessage(alice, 'alice', 'hello from alice');
      await say(bob, 'hi alice, bob here');
      await waitMessage(alice, 'alice2', 'hi alice, bob here');
      assert.equal(await alice.$eval('#text', (e) => e.value), '', 'input cleared after sending');
    });

    await t.test('a terminal client joins and chats with the pages', async () => {
      terminal = await startChild(WSC, ['chat-client', `ws://127.0.0.1:${port}/chat`, '--name', 'term'],
        /users: .*term/, 'wsc chat-client');
      await waitUsers(alice, ['alice', 'alice2', 'term']);
      await waitUsers(bob, ['alice', 'alice2', 'term']);
      terminal.stdin.write('typed in a terminal\n');
      await waitMessage(alice, 'term', 'typed in a terminal');
      await waitMessage(bob, 'term', 'typed in a terminal');
      await say(alice, 'welcome, term');
      await waitLine(terminal, '<alice> welcome, term');
    });

    await t.test('HTML in messages is shown as text', async () => {
      await say(alice, '<img src=x onerror="window.__pwned=true"><b>bold</b> &lt;i&gt;x&lt;/i&gt; a <3 b');
      await waitMessage(bob, 'alice', 'bold &lt;i&gt;x&lt;/i&gt; a <3 b');
      terminal.stdin.write('<script>window.__pwned=true</script>5 > 3 & 2 < 4\n');
      await waitMessage(alice, 'term', 'window.__pwned=true5 > 3 & 2 < 4');
      for (const p of [alice, bob]) assert.deepEqual(await injected(p), { elements: 0, pwned: false });
      if (SCREENSHOT) {
        await say(bob, 'the page escapes everything it shows');
        await waitMessage(alice, 'alice2', 'the page escapes everything it shows');
        fs.mkdirSync(path.dirname(path.resolve(SCREENSHOT)), { recursive: true });
        await alice.screenshot({ path: SCREENSHOT });
      }
    });

    await t.test('the page shows a lost server and reconnects when it is back', async () => {
      await stopChild(terminal);
      assert.equal(await stopChild(server), 0, 'wsc chat exits 0 on SIGTERM');
      await alice.waitForSelector('body[data-state="closed"]', { timeout: STEP_MS });
      assert.match(await alice.$eval('#status', (s) => s.textContent), /disconnected/);
      assert.equal(await alice.$eval('#send', (b) => b.disabled), true, 'send disabled while offline');
      const again = await startServer(`127.0.0.1:${port}`);
      try {
        await alice.waitForSelector('body[data-state="open"]', { timeout: 2 * STEP_MS });
        // Both pages log in again with the names they had (in the order
        // their randomised backoff brought them back).
        await waitUsers(alice, ['alice', 'alice2'], true);
        await waitUsers(bob, ['alice', 'alice2'], true);
        await say(bob, 'back again');
        await waitMessage(alice, 'alice2', 'back again');
      } finally {
        await stopChild(again);
      }
    });

    for (const p of [alice, bob]) assert.deepEqual(p.errors, [], 'no script errors on the page');
  } finally {
    if (terminal) await stopChild(terminal);
    await browser.close();
    await stopChild(server);
  }
});

test('the page renders raw HTML from a server as text', { timeout: 60000 }, async () => {
  // A stand-in server (Node's http + Debian's ws) that serves the same page
  // and sends HTML in every field, unstripped.
  let WebSocketServer;
  try {
    module.paths.push('/usr/share/nodejs', '/usr/lib/nodejs');
    ({ WebSocketServer } = require('ws'));
  } catch (e) {
    assert.fail('node-ws is needed (scripts/setup installs it)');
  }
  const evil = '<img src=x onerror="window.__pwned=true"><b>b</b><script>window.__pwned=true</script>';
  const files = { '/': 'index.html', '/chat.js': 'chat.js', '/chat.css': 'chat.css' };
  const types = { html: 'text/html', js: 'text/javascript', css: 'text/css' };
  const srv = http.createServer((req, res) => {
    const f = files[req.url];
    if (!f) { res.writeHead(404); res.end(); return; }
    res.writeHead(200, { 'Content-Type': types[f.split('.').pop()] });
    res.end(fs.readFileSync(path.join(ROOT, 'examples', 'chat', f)));
  });
  const wss = new WebSocketServer({ server: srv, path: '/chat', handleProtocols: (p) => (p.has('json') ? 'json' : false) });
  wss.on('connection', (ws) => {
    ws.send(JSON.stringify({ type: 'id', id: 1 }));
    ws.on('message', () => {
      ws.send(JSON.stringify({ type: 'userlist', users: [evil, 'plain'] }));
      ws.send(JSON.stringify({ type: 'message', id: 2, name: evil, text: evil, date: Date.now() }));
      ws.send(JSON.stringify({ type: 'error', message: evil }));
    });
  });
  await new Promise((r) => srv.listen(0, '127.0.0.1', r));
  const browser = await launch();
  try {
    const page = await openPage(browser, `http://127.0.0.1:${srv.address().port}/`);
    await login(page, 'x');
    await waitUsers(page, [evil, 'plain']);
    await waitMessage(page, evil, evil);
    await page.waitForFunction((e) => document.getElementById('chatbox').textContent.includes('server: ' + e), evil, { timeout: STEP_MS });
    assert.deepEqual(await injected(page), { elements: 0, pwned: false });
    assert.deepEqual(page.errors, []);
  } finally {
    await browser.close();
    for (const c of wss.clients) c.terminate();
    wss.close();
    srv.close();
  }
});

test('the page fits a phone screen', { timeout: 60000 }, async () => {
  const server = await startServer('127.0.0.1:0');
  const browser = await launch();
  try {
    const page = await openPage(browser, server.match[1], { width: 360, height: 640 });
    await login(page, 'phone');
    await say(page, 'a rather long message without spaces: ' + 'x'.repeat(300));
    await waitUsers(page, ['phone']);
    const fit = await page.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth);
    assert.equal(fit, true, 'horizontal overflow on a 360 px wide screen');
    for (const id of ['name', 'login', 'text', 'send', 'chatbox', 'userlistbox']) {
      const box = await page.locator('#' + id).boundingBox();
      assert.ok(box && box.width > 0 && box.x >= 0 && box.x + box.width <= 360, `#${id} off screen: ${JSON.stringify(box)}`);
    }
  } finally {
    await browser.close();
    await stopChild(server);
  }
});

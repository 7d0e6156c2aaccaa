#!/usr/bin/env node
/* screenshot.js - the README's picture of two users chatting.
 *
 *   node tests/browser/screenshot.js [--wsc build/wsc] [--out docs/img/chat.png]
 *
 * Starts `wsc chat` on a free port, shows two chat pages side by side (two
 * iframes, each its own WebSocket connection), logs in alice and bob, lets
 * them talk, saves a screenshot, and stops the server by PID. */
'use strict';
const { spawn } = require('node:child_process');
const path = require('node:path');
const { chromium } = require('playwright-core');

const ROOT = path.resolve(__dirname, '..', '..');
function argValue(name, dflt) {
  const i = process.argv.indexOf(name);
  return i > 0 && i + 1 < process.argv.length ? process.argv[i + 1] : dflt;
}
const WSC = path.resolve(argValue('--wsc', path.join(ROOT, 'build', 'wsc')));
const OUT = path.resolve(argValue('--out', path.join(ROOT, 'docs', 'img', 'chat.png')));

/* Resolves with [server process, page URL] once wsc chat prints its URL. */
function startServer() {
  return new Promise((resolve, reject) => {
    const srv = spawn(WSC, ['chat', '--listen', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'inherit'] });
    const timer = setTimeout(() => { srv.kill('SIGKILL'); reject(new Error('wsc chat: no URL in 10 s')); }, 10000);
    let buf = '';
    srv.stdout.on('data', (d) => {
      buf += d;
      const m = buf.match(/chat server listening on (http:\/\/\S+\/)/);
      if (m) { clearTimeout(timer); resolve([srv, m[1]]); }
    });
    srv.on('exit', (code) => { clearTimeout(timer); reject(new Error(`wsc chat exited (${code})`)); });
  });
}

async function main() {
  const [srv, url] = await startServer();
  const browser = await chromium.launch({
    executablePath: process.env.WSC_CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--headless', '--disable-gpu', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1000, height: 520 }, deviceScaleFactor: 1 });
    await page.setContent(`<!DOCTYPE html><style>
      body { margin: 0; padding: 12px; background: #cfd6e2; display: flex; gap: 12px; }
      iframe { flex: 1; height: 496px; border: 0; border-radius: 10px; background: #fff;
               box-shadow: 0 2px 8px rgba(0,0,0,.15); }</style>
      <iframe id="a" src="${url}"></iframe><iframe id="b" src="${url}"></iframe>`);
    const frame = async (id) => {
      const f = await (await page.waitForSelector('#' + id)).contentFrame();
      await f.waitForSelector('body[data-state="open"]', { timeout: 10000 });
      return f;
    };
    const a = await frame('a');
    const b = await frame('b');
    const login = async (f, name) => { await f.fill('#name', name); await f.click('#login'); await f.waitForSelector('#send:not([disabled])'); };
    const say = async (f, text) => {
      const n = await f.$$eval('#chatbox .msg', (m) => m.length);
      await f.fill('#text', text);
      await f.click('#send');
      await a.waitForFunction((k) => document.querySelectorAll('#chatbox .msg').length > k, n);
    };
    await login(a, 'alice');
    await login(b, 'bob');
    await b.waitForFunction(() => document.querySelectorAll('#userlistbox li').length === 2);
    await say(a, 'Hi Bob! This page talks to wsc chat over a WebSocket.');
    await say(b, 'Hello Alice. The server is C, on libuv, with the wsc server API.');
    await say(a, 'And <b>tags</b> are stripped, so this stays plain text.');
    await say(b, 'Close the server and the page reconnects by itself.');
    await b.waitForFunction(() => document.querySelectorAll('#chatbox .msg').length === 4);
    await page.screenshot({ path: OUT });
    console.log(`screenshot: ${OUT}`);
  } finally {
    await browser.close();
    srv.kill('SIGTERM');
  }
}

main().catch((e) => { console.error(e); process.exit(1); });

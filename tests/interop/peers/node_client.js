#!/usr/bin/env node
/* node_client.js - a WebSocket test client built on Node's `ws`, for the wsc
 * server tests (tests/interop/test_server*.c).
 *
 * Debian's node-ws lives in /usr/share/nodejs: run with
 *   NODE_PATH=/usr/share/nodejs:/usr/lib/nodejs node node_client.js URL ...
 *
 * Connects to URL, does what --mode says, prints what it saw as lines on
 * stdout and exits 0 when everything it checked was right, 1 when not (with a
 * `FAIL <why>` line). Stops on SIGTERM/SIGINT, on stdin EOF (unless
 * --no-stdin) and after --max-seconds.
 *
 * Modes (--mode), as py_client.py:
 *   echo       --sizes / --kinds echoed and checked (`ECHO <kind> <size> ok`),
 *              then close 1000 "done": `CLOSED <code> <reason>`
 *   fragment   each message sent as --pieces fragments with
 *              ws.send(chunk, {fin: false}) ... {fin: true}: `FRAG <kind> <size> ok`
 *   protocol   `PROTOCOL <selected or ->`
 *   reject     `STATUS <http status>` of the refused handshake
 *   close      close with --code / --reason: `CLOSED <code> <reason>`
 *   wait-close send --send (if given) and wait: `CLOSED <code> <reason>`
 *   many       --clients concurrent connections from this one process, each
 *              sending --count sequence-numbered messages, checked complete
 *              and in order: `MANY <ok clients> <messages>`
 * Every mode but many/reject prints `OPEN <protocol or ->` once connected.
 * --ca FILE trusts that CA for wss://. --deflate-options JSON offers
 * permessage-deflate with ws's perMessageDeflate options ('{}': the default
 * offer; off without it); every mode but many/reject then prints
 * `EXT <negotiated Sec-WebSocket-Extensions, or ->` after OPEN.
 */
'use strict';
const fs = require('fs');
const WebSocket = require('ws');

function usage(msg) {
  process.stderr.write(`node_client: ${msg}\n`);
  process.exit(2);
}

const args = {
  url: null, mode: 'echo', sizes: '0,1,125,126,65535,65536', kinds: 'text,binary', pieces: 5,
  subprotocols: '', code: 1000, reason: '', send: null, clients: 10, count: 20, ca: null,
  maxSeconds: 50, noStdin: false,
};
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  const val = () => { if (i + 1 >= argv.length) usage(`${a} needs a value`); return argv[++i]; };
  switch (a) {
    case '--mode': args.mode = val(); break;
    case '--sizes': args.sizes = val(); break;
    case '--kinds': args.kinds = val(); break;
    case '--pieces': args.pieces = parseInt(val(), 10); break;
    case '--subprotocols': args.subprotocols = val(); break;
    case '--code': args.code = parseInt(val(), 10); break;
    case '--reason': args.reason = val(); break;
    case '--send': args.send = val(); break;
    case '--clients': args.clients = parseInt(val(), 10); break;
    case '--count': args.count = parseInt(val(), 10); break;
    case '--ca': args.ca = val(); break;
    case '--deflate-options':
      try { args.deflateOptions = JSON.parse(val()); } catch (e) { usage(`bad --deflate-options: ${e}`); }
      break;
    case '--max-seconds': args.maxSeconds = parseFloat(val()); break;
    case '--no-stdin': args.noStdin = true; break;
    default:
      if (a.startsWith('--') || args.url) usage(`unknown argument ${a}`);
      args.url = a;
  }
}
if (!args.url) usage('URL missing');

function say(line) { process.stdout.write(line + '\n'); }
let exitCode = 1;
function finish(code) {
  exitCode = code;
  process.stdout.write('', () => process.exit(exitCode));
}
process.on('SIGTERM', () => { say('FAIL stopped before finishing'); finish(1); });
process.on('SIGINT', () => { say('FAIL stopped before finishing'); finish(1); });
if (!args.noStdin) {
  process.stdin.on('data', () => {});
  process.stdin.on('end', () => { say('FAIL stopped before finishing'); finish(1); });
  process.stdin.on('error', () => {});
}
setTimeout(() => { say('FAIL timed out'); finish(1); }, args.maxSeconds * 1000).unref();

function payload(kind, size) {
  if (kind === 'text') { /* 1-, 2-, 3- and 4-byte UTF-8, padded with ASCII */
    const chars = ['w', 's', 'c', ' ', '\u00e9', '\u20ac', '\u{1F600}', ' '];
    const unit = chars.join(''), unitBytes = Buffer.byteLength(unit);
    let s = unit.repeat(Math.floor(size / unitBytes)), n = Math.floor(size / unitBytes) * unitBytes;
    for (const c of chars) {
      if (n + Buffer.byteLength(c) > size) break;
      s += c;
      n += Buffer.byteLength(c);
    }
    return s + 'x'.repeat(size - n);
  }
  const b = Buffer.alloc(size);
  for (let i = 0; i < size; i++) b[i] = (i * 31 + (i >> 8)) & 0xff;
  return b;
}

function options() {
  const o = { maxPayload: 256 * 1024 * 1024, perMessageDeflate: false, handshakeTimeout: 10000 };
  if (args.ca) o.ca = fs.readFileSync(args.ca);
  if (args.deflateOptions) o.perMessageDeflate = args.deflateOptions;
  return o;
}

function open(url) {
  const protos = args.subprotocols ? args.subprotocols.split(',') : [];
  return new WebSocket(url, protos, options());
}

/* A queue of received messages that async code can await one by one. */
function inbox(ws) {
  const q = [], waiters = [];
  ws.on('message', (data, isBinary) => {
    const m = { data, isBinary };
    if (waiters.length) waiters.shift()(m); else q.push(m);
  });
  return () => new Promise((resolve) => { if (q.length) resolve(q.shift()); else waiters.push(resolve); });
}

function same(kind, msg, got) {
  if (kind === 'text') return !got.isBinary && Buffer.from(got.data).toString('utf8') === msg;
  return got.isBinary && Buffer.compare(Buffer.from(got.data), msg) === 0;
}

function closeAndReport(ws, code, reason) {
  ws.on('close', (c, r) => { say(`CLOSED ${c} ${r.toString()}`); finish(0); });
  ws.close(code, reason);
}

async function sequence(ws, fragmented) {
  const next = inbox(ws);
  for (const size of args.sizes.split(',').filter((s) => s).map(Number)) {
    for (const kind of args.kinds.split(',').filter((k) => k)) {
      const msg = payload(kind, size);
      if (fragmented) {
        const buf = kind === 'text' ? Buffer.from(msg) : msg;
        const step = Math.max(1, Math.ceil(buf.length / args.pieces));
        /* text pieces may split a character: ws sends bytes as they are */
        for (let i = 0; i < buf.length; i += step)
          ws.send(buf.subarray(i, i + step), { binary: kind !== 'text', fin: i + step >= buf.length });
        if (buf.length === 0) ws.send(buf, { binary: kind !== 'text', fin: true });
      } else {
        ws.send(msg, { binary: kind !== 'text' });
      }
      const got = await next();
      if (!same(kind, msg, got)) {
        say(`FAIL ${fragmented ? 'fragment' : 'echo'} ${kind} ${size} differs`);
        return finish(1);
      }
      say(`${fragmented ? 'FRAG' : 'ECHO'} ${kind} ${size} ok`);
    }
  }
  closeAndReport(ws, 1000, 'done');
}

function many() {
  let ok = 0, messages = 0, done = 0;
  const oneDone = () => { if (++done === args.clients) { say(`MANY ${ok} ${messages}`); finish(ok === args.clients ? 0 : 1); } };
  for (let i = 0; i < args.clients; i++) {
    const ws = open(args.url);
    let j = 0, failed = false;
    ws.on('open', () => { for (let k = 0; k < args.count; k++) ws.send(`${i}:${k}`); });
    ws.on('message', (data) => {
      if (failed) return;
      if (data.toString() !== `${i}:${j}`) {
        failed = true;
        say(`FAIL client ${i} message ${j}: ${data.toString().slice(0, 40)}`);
        ws.terminate();
        return;
      }
      messages++;
      if (++j === args.count) { ok++; ws.close(1000, 'done'); }
    });
    ws.on('error', (e) => { if (!failed) say(`FAIL client ${i}: ${e.message}`); failed = true; });
    ws.on('close', oneDone);
  }
}

function main() {
  if (args.mode === 'many') return many();
  const ws = open(args.url);
  ws.on('unexpected-response', (req, res) => {
    say(`STATUS ${res.statusCode}`);
    finish(args.mode === 'reject' ? 0 : 1);
  });
  ws.on('error', (e) => { say(`FAIL ${e.message}`); finish(1); });
  let ext = '-';
  ws.on('upgrade', (res) => { ext = res.headers['sec-websocket-extensions'] || '-'; });
  ws.on('open', () => {
    say(`OPEN ${ws.protocol || '-'}`);
    if (args.deflateOptions) say(`EXT ${ext}`);
    switch (args.mode) {
      case 'echo': return sequence(ws, false);
      case 'fragment': return sequence(ws, true);
      case 'protocol': say(`PROTOCOL ${ws.protocol || '-'}`); return closeAndReport(ws, 1000, 'done');
      case 'close': return closeAndReport(ws, args.code, args.reason);
      case 'wait-close':
        ws.on('close', (c, r) => { say(`CLOSED ${c} ${r.toString()}`); finish(0); });
        if (args.send !== null) ws.send(args.send);
        return undefined;
      case 'reject': say('FAIL the handshake was accepted'); return finish(1);
      default: say(`FAIL unknown mode ${args.mode}`); return finish(1);
    }
  });
}

main();

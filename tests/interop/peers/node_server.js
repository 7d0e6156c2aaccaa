#!/usr/bin/env node
/* node_server.js - a WebSocket test server built on Node's `ws`.
 *
 * Debian's node-ws lives in /usr/share/nodejs: run with
 *   NODE_PATH=/usr/share/nodejs:/usr/lib/nodejs node node_server.js ...
 *
 * Listens on 127.0.0.1 (or --host ::1) at a free port and prints `PORT <n>` on
 * its own line once listening. Exits on SIGTERM/SIGINT, when its stdin reaches
 * EOF (--no-stdin turns that off for runs by hand), or after --max-seconds.
 *
 * Modes (--mode): echo | close (after the first message, close with --code /
 * --reason) | drop (after the first message, destroy the TCP connection
 * without a Close frame) | reject (refuse the handshake with HTTP --status).
 * Options: --subprotocols a,b (select the first one the client offers that is
 * in this list; none otherwise), --deflate / --no-deflate (permessage-deflate,
 * off by default as in ws), --tls CERT KEY, --log-headers (print
 * `HEADERS <json>` with each upgrade request's headers to stdout), --ping
 * (ping each new connection with payload "wsc-ping"; print `PONG <payload>`
 * for every pong received),
 * --log-extensions (print `EXT <Sec-WebSocket-Extensions of the 101, or ->`
 * per connection), --max-size (bytes), --max-seconds, --no-stdin,
 * --deflate-options JSON (implies --deflate: ws's perMessageDeflate options,
 * e.g. '{"serverNoContextTakeover":true,"threshold":0}'; ws's default
 * threshold is 1024 bytes).
 */
'use strict';
const fs = require('fs');
const http = require('http');
const https = require('https');
const { WebSocketServer } = require('ws');

function usage(msg) {
  process.stderr.write(`node_server: ${msg}\n`);
  process.exit(2);
}

const args = {
  mode: 'echo', host: '127.0.0.1', code: 1000, reason: '', status: 403, subprotocols: '',
  deflate: false, tls: null, logHeaders: false, ping: false, maxSize: 64 * 1024 * 1024 + 1024,
  maxSeconds: 120, noStdin: false, deflateOptions: null,
};
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  const val = () => { if (i + 1 >= argv.length) usage(`${a} needs a value`); return argv[++i]; };
  switch (a) {
    case '--mode': args.mode = val(); break;
    case '--host': args.host = val(); break;
    case '--code': args.code = parseInt(val(), 10); break;
    case '--reason': args.reason = val(); break;
    case '--status': args.status = parseInt(val(), 10); break;
    case '--subprotocols': args.subprotocols = val(); break;
    case '--deflate': args.deflate = true; break;
    case '--no-deflate': args.deflate = false; break;
    case '--deflate-options':
      try { args.deflateOptions = JSON.parse(val()); } catch (e) { usage(`bad --deflate-options: ${e}`); }
      args.deflate = true;
      break;
    case '--tls': args.tls = [val(), val()]; break;
    case '--log-headers': args.logHeaders = true; break;
    case '--log-extensions': args.logExtensions = true; break;
    case '--ping': args.ping = true; break;
    case '--max-size': args.maxSize = parseInt(val(), 10); break;
    case '--max-seconds': args.maxSeconds = parseFloat(val()); break;
    case '--no-stdin': args.noStdin = true; break;
    default: usage(`unknown argument ${a}`);
  }
}
if (!['echo', 'close', 'drop', 'reject'].includes(args.mode)) usage(`unknown mode ${args.mode}`);
if (!['127.0.0.1', '::1', 'localhost'].includes(args.host)) usage('--host must be a loopback address');

const supported = args.subprotocols.split(',').filter((p) => p.length > 0);

const server = args.tls
  ? https.createServer({ cert: fs.readFileSync(args.tls[0]), key: fs.readFileSync(args.tls[1]) })
  : http.createServer();
server.on('request', (req, res) => {
  res.writeHead(426, { 'Content-Type': 'text/plain', Upgrade: 'websocket' });
  res.end('WebSocket only\n');
});

const wss = new WebSocketServer({
  server,
  maxPayload: args.maxSize,
  perMessageDeflate: args.deflate && args.deflateOptions ? args.deflateOptions : args.deflate,
  clientTracking: true,
  handleProtocols: (protocols /* Set, client's order */) => {
    for (const p of protocols) if (supported.includes(p)) return p;
    return false;
  },
  verifyClient: (info, cb) => {
    const req = info.req;
    if (args.logHeaders) {
      const pairs = [];
      for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) pairs.push([req.rawHeaders[i], req.rawHeaders[i + 1]]);
      say('HEADERS ' + JSON.stringify({ path: req.url, headers: pairs }));
    }
    if (args.mode === 'reject') cb(false, args.status, 'rejected by node_server');
    else cb(true);
  },
});
wss.on('error', (e) => process.stderr.write(`node_server: ${e}\n`));
wss.on('headers', (headers) => {
  if (!args.logExtensions) return;
  const h = headers.find((l) => /^sec-websocket-extensions:/i.test(l));
  say('EXT ' + (h ? h.replace(/^[^:]*:\s*/, '') : '-'));
});

wss.on('connection', (ws) => {
  ws.on('error', () => {}); // protocol errors of the client: ws closes with 1002 itself
  ws.on('pong', (data) => say('PONG ' + data.toString()));
  if (args.ping) ws.ping('wsc-ping');
  ws.on('message', (data, isBinary) => {
    if (args.mode === 'echo') {
      ws.send(data, { binary: isBinary });
    } else if (args.mode === 'close') {
      ws.close(args.code, args.reason);
    } else if (args.mode === 'drop') {
      ws.terminate(); // destroys the socket: no Close frame
    }
  });
});

function say(line) {
  process.stdout.write(line + '\n');
}

let stopping = false;
function stop(why) {
  if (stopping) return;
  stopping = true;
  if (why) process.stderr.write(`node_server: ${why}\n`);
  for (const ws of wss.clients) ws.terminate();
  server.close();
  // Do not wait for anything: the caller wants the process gone.
  process.exit(0);
}

process.on('SIGTERM', () => stop());
process.on('SIGINT', () => stop());
if (!args.noStdin) {
  process.stdin.on('end', () => stop());
  process.stdin.on('close', () => stop());
  process.stdin.on('error', () => stop());
  process.stdin.resume();
}
setTimeout(() => stop('--max-seconds reached'), args.maxSeconds * 1000).unref();

server.listen(0, args.host, () => {
  say(`PORT ${server.address().port}`);
});

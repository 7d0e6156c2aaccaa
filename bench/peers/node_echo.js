#!/usr/bin/env node
/* node_echo.js - a Node `ws` echo server, a peer for bench/compare.sh.
 *
 *   NODE_PATH=/usr/share/nodejs node node_echo.js PORT [--deflate [takeover|no-takeover]]
 *   (PORT 0: any free port)
 *
 * Listens on 127.0.0.1, prints `listening on 127.0.0.1:PORT` once it does,
 * echoes every message with its type. ws defaults except perMessageDeflate
 * off (stated, since compression would change what is measured) and a
 * maxPayload that admits the 1 MiB scenario (ws's default, 100 MiB, already
 * does). Stops on SIGTERM or SIGINT.
 *
 * --deflate: perMessageDeflate with ws's defaults (zlib level and memLevel
 * defaults, 15-bit windows, 1 KiB threshold, context takeover, and a
 * client's request for no takeover honoured); --deflate no-takeover also
 * sets serverNoContextTakeover and clientNoContextTakeover, so every
 * connection resets its zlib streams after each message.
 */
'use strict';
const { WebSocketServer } = require('ws');

const usage = () => {
  process.stderr.write('usage: node node_echo.js PORT [--deflate [takeover|no-takeover]]\n');
  process.exit(2);
};
const port = Number.parseInt(process.argv[2] || '', 10);
if (!(port >= 0 && port <= 65535)) usage();
let perMessageDeflate = false;
if (process.argv.length > 3) {
  const mode = process.argv[4] || 'takeover';
  if (process.argv[3] !== '--deflate' || process.argv.length > 5 ||
      (mode !== 'takeover' && mode !== 'no-takeover')) usage();
  perMessageDeflate = mode === 'takeover' ? true
    : { serverNoContextTakeover: true, clientNoContextTakeover: true };
}

const wss = new WebSocketServer({ host: '127.0.0.1', port, perMessageDeflate });
wss.on('connection', (ws) => {
  ws.on('error', () => {}); // a client's protocol error: ws closes the connection itself
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
});
wss.on('listening', () => {
  process.stdout.write(`listening on 127.0.0.1:${wss.address().port}\n`);
});
wss.on('error', (e) => {
  process.stderr.write(`node_echo: ${e}\n`);
  process.exit(1);
});
const stop = () => process.exit(0);
process.on('SIGTERM', stop);
process.on('SIGINT', stop);

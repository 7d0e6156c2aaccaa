#!/usr/bin/env node
/* node_echo.js - a Node `ws` echo server, a peer for bench/compare.sh.
 *
 *   NODE_PATH=/usr/share/nodejs node node_echo.js PORT     (0: any free port)
 *
 * Listens on 127.0.0.1, prints `listening on 127.0.0.1:PORT` once it does,
 * echoes every message with its type. ws defaults except perMessageDeflate
 * off (stated, since compression would change what is measured) and a
 * maxPayload that admits the 1 MiB scenario (ws's default, 100 MiB, already
 * does). Stops on SIGTERM or SIGINT.
 */
'use strict';
const { WebSocketServer } = require('ws');

const port = Number.parseInt(process.argv[2] || '', 10);
if (!(port >= 0 && port <= 65535)) {
  process.stderr.write('usage: node node_echo.js PORT\n');
  process.exit(2);
}

const wss = new WebSocketServer({ host: '127.0.0.1', port, perMessageDeflate: false });
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

#!/usr/bin/python3
"""py_server.py - a WebSocket test server built on Python's `websockets`.

Run it with Debian's interpreter, /usr/bin/python3 (python3-websockets).

Listens on 127.0.0.1 (or --host ::1) at a free port and prints `PORT <n>` on
its own line once listening. Exits on SIGTERM/SIGINT, when its stdin reaches
EOF (so a crashed test never leaks a server; --no-stdin turns that off for runs
by hand), or after --max-seconds.

Modes (--mode):
  echo    send every message back (text as text, binary as binary)
  close   after the first message, close with --code / --reason
  drop    after the first message, abort the TCP connection (no Close frame)
  reject  refuse the handshake with HTTP --status

Options: --subprotocols a,b (select the first one the client offers that is
in this list), --deflate / --no-deflate (permessage-deflate; on by default, as
in websockets), --tls CERT KEY (wss), --log-headers (print `HEADERS <json>`
with each upgrade request's headers to stdout), --log-extensions (print
`EXT <Sec-WebSocket-Extensions of the 101, or ->` per connection), --ping (ping each new
connection with payload "wsc-ping" and print `PONG <payload>` when the
matching pong arrives, `NOPONG` if none within 10 s), --max-size (bytes).

permessage-deflate settings (any of them replaces websockets' default server
factory, which is server_max_window_bits=12, client_max_window_bits=12,
memLevel 5): --deflate-server-no-context-takeover,
--deflate-client-no-context-takeover, --deflate-server-max-window-bits N,
--deflate-client-max-window-bits N (0: accept the client's choice),
--deflate-require-client-max-window-bits.
"""
import argparse
import asyncio
import http
import json
import signal
import ssl
import sys

import websockets
import websockets.exceptions

from peerlib import say, stop_event


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mode", choices=["echo", "close", "drop", "reject"], default="echo")
    ap.add_argument("--host", default="127.0.0.1", choices=["127.0.0.1", "::1", "localhost"])
    ap.add_argument("--code", type=int, default=1000)
    ap.add_argument("--reason", default="")
    ap.add_argument("--status", type=int, default=403)
    ap.add_argument("--subprotocols", default="")
    ap.add_argument("--deflate", dest="deflate", action="store_true", default=True)
    ap.add_argument("--no-deflate", dest="deflate", action="store_false")
    ap.add_argument("--deflate-server-no-context-takeover", action="store_true")
    ap.add_argument("--deflate-client-no-context-takeover", action="store_true")
    ap.add_argument("--deflate-server-max-window-bits", type=int)
    ap.add_argument("--deflate-client-max-window-bits", type=int)
    ap.add_argument("--deflate-require-client-max-window-bits", action="store_true")
    ap.add_argument("--tls", nargs=2, metavar=("CERT", "KEY"))
    ap.add_argument("--log-headers", action="store_true")
    ap.add_argument("--log-extensions", action="store_true")
    ap.add_argument("--ping", action="store_true")
    ap.add_argument("--max-size", type=int, default=64 * 1024 * 1024 + 1024)
    ap.add_argument("--max-seconds", type=float, default=120)
    ap.add_argument("--no-stdin", action="store_true", help="do not exit on stdin EOF")
    return ap.parse_args()


async def main(args):
    stop = stop_event(args.no_stdin)

    supported = [p for p in args.subprotocols.split(",") if p]

    def select_subprotocol(client_protocols, server_protocols):
        for p in client_protocols:
            if p in supported:
                return p
        return None

    def process_request(path, headers):
        if args.log_headers:
            say("HEADERS " + json.dumps({"path": path, "headers": [[k, v] for k, v in headers.raw_items()]}))
        if args.mode == "reject":
            return (http.HTTPStatus(args.status), [("Content-Type", "text/plain")],
                    b"rejected by py_server\n")
        return None

    async def report_pong(waiter):
        try:
            await asyncio.wait_for(waiter, 10)
            say("PONG wsc-ping")
        except (asyncio.TimeoutError, websockets.exceptions.ConnectionClosed, asyncio.CancelledError):
            say("NOPONG")

    async def handler(ws, path=None):
        if args.log_extensions:
            say("EXT " + (ws.response_headers.get("Sec-WebSocket-Extensions") or "-"))
        try:
            if args.ping:
                asyncio.ensure_future(report_pong(await ws.ping(b"wsc-ping")))
            if args.mode == "echo":
                async for msg in ws:
                    await ws.send(msg)
            elif args.mode == "close":
                await ws.recv()
                await ws.close(args.code, args.reason)
            elif args.mode == "drop":
                await ws.recv()
                ws.transport.abort()
        except websockets.exceptions.ConnectionClosed:
            pass

    compression = "deflate" if args.deflate else None
    extensions = None
    if args.deflate and (args.deflate_server_no_context_takeover or args.deflate_client_no_context_takeover
                         or args.deflate_server_max_window_bits is not None
                         or args.deflate_client_max_window_bits is not None
                         or args.deflate_require_client_max_window_bits):
        from websockets.extensions.permessage_deflate import ServerPerMessageDeflateFactory
        cmwb = args.deflate_client_max_window_bits
        extensions = [ServerPerMessageDeflateFactory(
            server_no_context_takeover=args.deflate_server_no_context_takeover,
            client_no_context_takeover=args.deflate_client_no_context_takeover,
            server_max_window_bits=args.deflate_server_max_window_bits,
            client_max_window_bits=cmwb if cmwb else None,
            require_client_max_window_bits=args.deflate_require_client_max_window_bits,
        )]
        compression = None

    ssl_ctx = None
    if args.tls:
        ssl_ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ssl_ctx.load_cert_chain(args.tls[0], args.tls[1])

    async with websockets.serve(
        handler, args.host, 0,
        subprotocols=supported or None,
        select_subprotocol=select_subprotocol,
        process_request=process_request,
        compression=compression,
        extensions=extensions,
        max_size=args.max_size,
        max_queue=4,
        ssl=ssl_ctx,
        close_timeout=2,
    ) as server:
        port = server.sockets[0].getsockname()[1]
        say(f"PORT {port}")
        try:
            await asyncio.wait_for(stop.wait(), args.max_seconds)
        except asyncio.TimeoutError:
            print("py_server: --max-seconds reached", file=sys.stderr)
        # Leave at once: abort open connections rather than closing them
        # with 1001 and waiting for the clients (up to 2 x close_timeout).
        for ws in list(server.websockets):
            ws.transport.abort()
        server.close()


if __name__ == "__main__":
    a = parse_args()
    # Backstop: whatever happens inside asyncio, the process does not outlive
    # its cap by more than a few seconds (SIGALRM's default action ends it).
    signal.alarm(int(a.max_seconds) + 5)
    asyncio.run(main(a))

#!/usr/bin/python3
"""py_client.py - a WebSocket test client built on Python's `websockets`, for
the wsc server tests (tests/interop/test_server*.c).

Run it with Debian's interpreter, /usr/bin/python3 (python3-websockets).
It connects to URL, does what --mode says, prints what it saw as lines on
stdout (peerlib.say) and exits 0 when everything it checked was right, 1 when
not (with a `FAIL <why>` line). It stops on SIGTERM/SIGINT, on stdin EOF
(unless --no-stdin) and after --max-seconds.

Modes (--mode):
  echo       for each size in --sizes and kind in --kinds, send a message and
             check the echo byte for byte (`ECHO <kind> <size> ok`), --repeat
             times with --delay seconds between rounds; then close 1000 "done"
             and print `CLOSED <code> <reason>` (the server's answer)
  fragment   send text and binary messages as iterables of --pieces pieces
             and check the echoes (`FRAG <kind> <size> ok`), then close
  protocol   print `PROTOCOL <selected>` (`PROTOCOL -` for none), then close
  reject     expect the handshake to be refused: `STATUS <http status>`
  close      close with --code / --reason: `CLOSED <code> <reason>` (echoed)
  wait-close send --send (if given), then wait for the server's Close:
             `CLOSED <code> <reason>`
  drop       send one message, wait for its echo, then abort TCP: `DROPPED`
  many       --clients concurrent connections, each sending --count
             sequence-numbered messages and checking their echoes arrive
             complete and in order: `MANY <ok clients> <messages>`
  recv       send --send (if given), receive --count messages (`RECV <n> <total bytes>`), then close

Every mode prints `OPEN <protocol or ->` once connected (many: once for all).
--ca FILE trusts that CA for wss://; --origin sends that Origin header.
--deflate offers permessage-deflate (websockets' default offer; off without
it), tuned by --deflate-server-no-context-takeover,
--deflate-client-no-context-takeover, --deflate-server-max-window-bits N,
--deflate-client-max-window-bits N; every mode then also prints
`EXT <negotiated Sec-WebSocket-Extensions, or ->` after OPEN.
"""
import argparse
import asyncio
import os
import ssl
import sys

import websockets
import websockets.exceptions

from peerlib import say, stop_event


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("url")
    ap.add_argument("--mode", default="echo",
                    choices=["echo", "fragment", "protocol", "reject", "close", "wait-close",
                             "drop", "many", "recv"])
    ap.add_argument("--sizes", default="0,1,125,126,65535,65536")
    ap.add_argument("--kinds", default="text,binary")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--delay", type=float, default=0.0)
    ap.add_argument("--pieces", type=int, default=5)
    ap.add_argument("--subprotocols", default="")
    ap.add_argument("--code", type=int, default=1000)
    ap.add_argument("--reason", default="")
    ap.add_argument("--send", default=None)
    ap.add_argument("--clients", type=int, default=10)
    ap.add_argument("--count", type=int, default=20)
    ap.add_argument("--ca", default=None)
    ap.add_argument("--origin", default=None)
    ap.add_argument("--max-seconds", type=float, default=50)
    ap.add_argument("--no-stdin", action="store_true")
    ap.add_argument("--deflate", action="store_true")
    ap.add_argument("--deflate-server-no-context-takeover", action="store_true")
    ap.add_argument("--deflate-client-no-context-takeover", action="store_true")
    ap.add_argument("--deflate-server-max-window-bits", type=int)
    ap.add_argument("--deflate-client-max-window-bits", type=int)
    return ap.parse_args()


def payload(kind, size, seed=0):
    """A deterministic message: ASCII-and-multibyte text or patterned bytes."""
    if kind == "text":
        unit = "wsc \u00e9\u20ac\U0001F600 "  # 1-, 2-, 3- and 4-byte UTF-8
        raw = (unit * (size // len(unit.encode()) + 2)).encode()[:size]
        while True:  # cut on a character boundary, pad with ASCII
            try:
                text = raw.decode()
                break
            except UnicodeDecodeError:
                raw = raw[:-1]
        return text + "x" * (size - len(text.encode()))
    return bytes(((i * 31 + (i >> 8) + seed) & 0xFF) for i in range(size)) if size < 65536 \
        else (bytes(range(256)) * (size // 256 + 1))[:size]


def connect_kwargs(args):
    kw = {"max_size": None, "open_timeout": 10, "close_timeout": 10, "compression": None}
    if args.origin:
        kw["origin"] = args.origin
    if args.subprotocols:
        kw["subprotocols"] = args.subprotocols.split(",")
    if args.deflate:
        from websockets.extensions.permessage_deflate import ClientPerMessageDeflateFactory
        kw["compression"] = None
        kw["extensions"] = [ClientPerMessageDeflateFactory(
            server_no_context_takeover=args.deflate_server_no_context_takeover,
            client_no_context_takeover=args.deflate_client_no_context_takeover,
            server_max_window_bits=args.deflate_server_max_window_bits,
            client_max_window_bits=args.deflate_client_max_window_bits or True,
        )]
    if args.url.startswith("wss:"):
        ctx = ssl.create_default_context(cafile=args.ca)
        kw["ssl"] = ctx
    return kw


async def closed_line(ws):
    await ws.wait_closed()
    say("CLOSED %s %s" % (ws.close_code, ws.close_reason))


async def run_echo(args, ws):
    sizes = [int(s) for s in args.sizes.split(",") if s]
    kinds = [k for k in args.kinds.split(",") if k]
    for r in range(args.repeat):
        for size in sizes:
            for kind in kinds:
                msg = payload(kind, size, r)
                await ws.send(msg)
                got = await ws.recv()
                if type(got) is not type(msg) or got != msg:
                    say("FAIL echo %s %d differs (got %s of %d)" % (
                        kind, size, type(got).__name__, len(got)))
                    return 1
                if r == 0:
                    say("ECHO %s %d ok" % (kind, size))
        if args.delay:
            await asyncio.sleep(args.delay)
    await ws.close(1000, "done")
    await closed_line(ws)
    return 0


async def run_fragment(args, ws):
    for size in [int(s) for s in args.sizes.split(",") if s]:
        for kind in [k for k in args.kinds.split(",") if k]:
            msg = payload(kind, size)
            step = max(1, len(msg) // args.pieces)
            pieces = [msg[i:i + step] for i in range(0, len(msg), step)] or [msg]
            await ws.send(pieces)
            got = await ws.recv()
            if got != msg:
                say("FAIL fragment %s %d differs" % (kind, size))
                return 1
            say("FRAG %s %d ok" % (kind, size))
    await ws.close(1000, "done")
    await closed_line(ws)
    return 0


async def one_of_many(args, i, stats):
    try:
        async with websockets.connect(args.url, **connect_kwargs(args)) as ws:
            for j in range(args.count):
                await ws.send("%d:%d" % (i, j))
            for j in range(args.count):
                got = await ws.recv()
                if got != "%d:%d" % (i, j):
                    say("FAIL client %d message %d: %r" % (i, j, got[:40]))
                    return
                stats["messages"] += 1
            stats["ok"] += 1
    except Exception as e:  # noqa: BLE001 - report any failure as a line
        say("FAIL client %d: %s" % (i, e))


async def run_many(args):
    stats = {"ok": 0, "messages": 0}
    await asyncio.gather(*(one_of_many(args, i, stats) for i in range(args.clients)))
    say("MANY %d %d" % (stats["ok"], stats["messages"]))
    return 0 if stats["ok"] == args.clients else 1


async def session(args):
    if args.mode == "many":
        return await run_many(args)
    try:
        ws = await websockets.connect(args.url, **connect_kwargs(args))
    except websockets.exceptions.InvalidStatusCode as e:
        say("STATUS %d" % e.status_code)
        return 0 if args.mode == "reject" else 1
    if args.mode == "reject":
        say("FAIL the handshake was accepted")
        await ws.close()
        return 1
    say("OPEN %s" % (ws.subprotocol or "-"))
    if args.deflate:
        say("EXT " + (ws.response_headers.get("Sec-WebSocket-Extensions") or "-"))
    try:
        if args.mode == "echo":
            return await run_echo(args, ws)
        if args.mode == "fragment":
            return await run_fragment(args, ws)
        if args.mode == "protocol":
            say("PROTOCOL %s" % (ws.subprotocol or "-"))
            await ws.close(1000, "done")
            await closed_line(ws)
            return 0
        if args.mode == "close":
            await ws.close(args.code, args.reason)
            await closed_line(ws)
            return 0
        if args.mode == "wait-close":
            if args.send is not None:
                await ws.send(args.send)
            try:
                async for _ in ws:
                    pass
            except websockets.exceptions.ConnectionClosed:
                pass
            await closed_line(ws)
            return 0
        if args.mode == "drop":
            await ws.send("before the drop")
            await ws.recv()
            ws.transport.abort()
            say("DROPPED")
            return 0
        if args.mode == "recv":
            if args.send is not None:
                await ws.send(args.send)
            total = 0
            for _ in range(args.count):
                total += len(await ws.recv())
            say("RECV %d %d" % (args.count, total))
            await ws.close(1000, "done")
            await closed_line(ws)
            return 0
    except websockets.exceptions.ConnectionClosed as e:
        say("FAIL connection closed: %s" % e)
        return 1
    return 1


async def main(args):
    stop = stop_event(args.no_stdin)
    work = asyncio.ensure_future(session(args))
    stopper = asyncio.ensure_future(stop.wait())
    done, _ = await asyncio.wait({work, stopper}, timeout=args.max_seconds,
                                 return_when=asyncio.FIRST_COMPLETED)
    if work in done:
        stopper.cancel()
        return work.result()
    work.cancel()
    say("FAIL stopped before finishing" if stopper in done else "FAIL timed out")
    return 1


if __name__ == "__main__":
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    sys.exit(asyncio.run(main(parse_args())))

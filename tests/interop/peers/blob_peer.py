#!/usr/bin/python3
"""blob_peer.py - a Python `websockets` server that sends large messages on
request, for the binaryType "blob" tests (test_blob.c).

Run it with Debian's interpreter, /usr/bin/python3 (python3-websockets).
Listens on 127.0.0.1 at a free port and prints `PORT <n>`; exits on
SIGTERM/SIGINT, at stdin EOF (unless --no-stdin) or after --max-seconds.
No permessage-deflate.

Each text message from the client is a command:
  bin SIZE FRAG   send a binary message of SIZE bytes, in fragments of FRAG
                  bytes (0: one frame). Its bytes are the little-endian 32-bit
                  word index at each 4-byte offset: byte i is
                  (i // 4) >> (8 * (i % 4)) & 0xff.
  text SIZE       send a text message of SIZE bytes ("0123456789" repeated)
Prints `SENT <kind> <size>` after each message and `CLOSED <code> <reason>`
when a connection ends.
"""
import argparse
import asyncio
import sys
from array import array

import websockets

from peerlib import say, stop_event

CHUNK = 1 << 20


def pattern(start, size):
    """size bytes of the pattern from byte offset start (a multiple of 4)."""
    words = (size + 3) // 4
    first = start // 4
    return array("I", range(first, first + words)).tobytes()[:size]


def pieces(size, frag):
    off = 0
    while off < size:
        n = min(frag, size - off)
        yield pattern(off, n)
        off += n


async def handler(ws, path=None):
    try:
        async for msg in ws:
            if not isinstance(msg, str):
                continue
            words = msg.split()
            if words[0] == "bin":
                size, frag = int(words[1]), int(words[2])
                if frag and size > frag:
                    if frag % 4:
                        raise ValueError("FRAG must be a multiple of 4")
                    await ws.send(pieces(size, frag))
                else:
                    await ws.send(pattern(0, size))
                say(f"SENT bin {size}")
            elif words[0] == "text":
                size = int(words[1])
                await ws.send(("0123456789" * (size // 10 + 1))[:size])
                say(f"SENT text {size}")
    except websockets.exceptions.ConnectionClosed:
        pass
    say(f"CLOSED {ws.close_code} {ws.close_reason}")


async def main(args):
    stop = stop_event(args.no_stdin)
    async with websockets.serve(handler, "127.0.0.1", 0, compression=None,
                                max_size=1 << 20, write_limit=4 * CHUNK) as server:
        say(f"PORT {server.sockets[0].getsockname()[1]}")
        try:
            await asyncio.wait_for(stop.wait(), args.max_seconds)
        except asyncio.TimeoutError:
            pass


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--max-seconds", type=float, default=120)
    ap.add_argument("--no-stdin", action="store_true")
    asyncio.run(main(ap.parse_args()))
    sys.exit(0)

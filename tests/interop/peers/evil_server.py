#!/usr/bin/python3
"""evil_server.py - misbehaving WebSocket servers for hostile-input tests.

Plain asyncio TCP, no WebSocket library. Listens on 127.0.0.1 (or --host ::1)
at a free port, prints `PORT <n>` once listening, exits on SIGTERM/SIGINT,
stdin EOF (unless --no-stdin) or after --max-seconds.

Modes (--mode), each after reading the client's request head:
  bad-accept           101 with a wrong Sec-WebSocket-Accept
  unoffered-protocol   valid 101 choosing Sec-WebSocket-Protocol: --protocol
  unoffered-extension  valid 101 with Sec-WebSocket-Extensions: --extension
  masked-frames        valid 101, then a masked text frame "hello"
  garbage              valid 101, then --garbage-bytes random bytes (--seed)
  endless-handshake    status line "101", then --line-bytes long header lines
                       every --interval seconds, forever (until --max-seconds)
  huge-message         valid 101, then a binary frame announcing 2^40 bytes
                       followed by 64 KiB of data
  no-close             valid 101, then reads frames and never answers a Close
  deflate-bomb         valid 101 accepting "permessage-deflate", then one
                       compressed binary message of --bomb-bytes zeros
                       (10 MB: about 10 KB on the wire)
  status               HTTP --status (default 403) with a short body
  early-frames         (not evil) valid 101 and, in the same write, a text
                       frame "hello" and a Ping "p"; then behaves as usual

After a valid 101, frames the client sends are parsed and reported on stdout:
`FRAME <opcode> <len>` for each, and `CLOSE <code> <reason>` for a Close (code
1005 when it has no body). A Close is answered (echoing the code) except in
no-close mode. One line `REQUEST <n bytes>` is printed per request head read.
"""
import argparse
import asyncio
import base64
import hashlib
import random
import signal
import struct
import sys

from peerlib import say, stop_event

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
MODES = ["deflate-bomb", "bad-accept", "unoffered-protocol", "unoffered-extension", "masked-frames", "garbage",
         "endless-handshake", "huge-message", "no-close", "status", "early-frames"]


def accept_for(key: bytes) -> bytes:
    return base64.b64encode(hashlib.sha1(key + GUID).digest())


def frame(opcode, payload, fin=True, mask=None):
    b0 = (0x80 if fin else 0) | opcode
    n = len(payload)
    mbit = 0x80 if mask else 0
    if n < 126:
        head = struct.pack("!BB", b0, mbit | n)
    elif n < 65536:
        head = struct.pack("!BBH", b0, mbit | 126, n)
    else:
        head = struct.pack("!BBQ", b0, mbit | 127, n)
    if mask:
        payload = unmask(payload, mask)
        head += mask
    return head + payload


def unmask(data: bytes, key: bytes) -> bytes:
    full = (key * (len(data) // 4 + 1))[: len(data)]
    return (int.from_bytes(data, "little") ^ int.from_bytes(full, "little")).to_bytes(len(data), "little")


async def read_head(reader, limit=16384):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = await reader.read(4096)
        if not chunk:
            return None
        data += chunk
        if len(data) > limit:
            return None
    return data


def get_header(head: bytes, name: bytes):
    for line in head.split(b"\r\n")[1:]:
        k, sep, v = line.partition(b":")
        if sep and k.strip().lower() == name.lower():
            return v.strip()
    return None


async def read_frames(reader, writer, answer_close):
    """Parse client frames until EOF or Close; report them on stdout."""
    while True:
        hdr = await reader.readexactly(2)
        op = hdr[0] & 0x0F
        masked = hdr[1] & 0x80
        n = hdr[1] & 0x7F
        if n == 126:
            n = struct.unpack("!H", await reader.readexactly(2))[0]
        elif n == 127:
            n = struct.unpack("!Q", await reader.readexactly(8))[0]
        if n > 64 * 1024 * 1024:
            say(f"FRAME {op} {n} (too big, giving up)")
            return
        key = await reader.readexactly(4) if masked else b"\0\0\0\0"
        payload = await reader.readexactly(n)
        if masked:
            payload = unmask(payload, key)
        say(f"FRAME {op} {n}")
        if op == 8:
            code = struct.unpack("!H", payload[:2])[0] if n >= 2 else 1005
            reason = payload[2:].decode("utf-8", "replace")
            say(f"CLOSE {code} {reason}")
            if answer_close:
                writer.write(frame(8, payload[:2]))
                await writer.drain()
            return


async def handle(args, reader, writer):
    head = await read_head(reader)
    if head is None:
        writer.close()
        return
    say(f"REQUEST {len(head)}")
    key = get_header(head, b"Sec-WebSocket-Key") or b""
    good = accept_for(key)
    ok_head = (b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               b"Sec-WebSocket-Accept: " + good + b"\r\n")
    m = args.mode
    if m == "status":
        body = b"go away\n"
        writer.write(b"HTTP/1.1 %d Evil\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n"
                     b"Connection: close\r\n\r\n%s" % (args.status, len(body), body))
        await writer.drain()
        writer.close()
        return
    if m == "bad-accept":
        wrong = accept_for(b"dGhlIHNhbXBsZSBub25jZQ==" if key != b"dGhlIHNhbXBsZSBub25jZQ==" else b"x")
        writer.write(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                     b"Sec-WebSocket-Accept: " + wrong + b"\r\n\r\n")
    elif m == "unoffered-protocol":
        writer.write(ok_head + b"Sec-WebSocket-Protocol: " + args.protocol.encode() + b"\r\n\r\n")
    elif m == "unoffered-extension":
        writer.write(ok_head + b"Sec-WebSocket-Extensions: " + args.extension.encode() + b"\r\n\r\n")
    elif m == "endless-handshake":
        writer.write(b"HTTP/1.1 101 Switching Protocols\r\n")
        i = 0
        while True:
            writer.write(b"X-Trickle-%d: %s\r\n" % (i, b"a" * args.line_bytes))
            await writer.drain()
            i += 1
            await asyncio.sleep(args.interval)
    elif m == "deflate-bomb":
        import zlib
        z = zlib.compressobj(9, zlib.DEFLATED, -15)
        data = z.compress(b"\0" * args.bomb_bytes) + z.flush(zlib.Z_SYNC_FLUSH)
        data = data[:-4]  # RFC 7692 7.2.1: the 00 00 ff ff tail goes
        writer.write(ok_head + b"Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n"
                     + (struct.pack("!BBH", 0xC2, 126, len(data)) if len(data) < 65536
                        else struct.pack("!BBQ", 0xC2, 127, len(data))) + data)
    elif m == "early-frames":
        writer.write(ok_head + b"\r\n" + frame(1, b"hello") + frame(9, b"p"))
    else:
        writer.write(ok_head + b"\r\n")
        if m == "masked-frames":
            writer.write(frame(1, b"hello", mask=b"\x11\x22\x33\x44"))
        elif m == "garbage":
            rng = random.Random(args.seed)
            writer.write(bytes(rng.getrandbits(8) for _ in range(args.garbage_bytes)))
        elif m == "huge-message":
            writer.write(struct.pack("!BBQ", 0x82, 127, 1 << 40) + b"\xab" * 65536)
    await writer.drain()
    await read_frames(reader, writer, answer_close=(m != "no-close"))
    if m == "no-close":
        await asyncio.sleep(args.max_seconds)  # hold the connection open, say nothing
    writer.close()


async def main(args):
    stop = stop_event(args.no_stdin)

    async def client(reader, writer):
        try:
            await handle(args, reader, writer)
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()

    server = await asyncio.start_server(client, args.host, 0)
    say(f"PORT {server.sockets[0].getsockname()[1]}")
    try:
        await asyncio.wait_for(stop.wait(), args.max_seconds)
    except asyncio.TimeoutError:
        print("evil_server: --max-seconds reached", file=sys.stderr)
    server.close()


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--mode", choices=MODES, required=True)
    ap.add_argument("--host", default="127.0.0.1", choices=["127.0.0.1", "::1", "localhost"])
    ap.add_argument("--status", type=int, default=403)
    ap.add_argument("--protocol", default="zzz")
    ap.add_argument("--extension", default="permessage-deflate")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--bomb-bytes", type=int, default=10 * 1000 * 1000)
    ap.add_argument("--garbage-bytes", type=int, default=4096)
    ap.add_argument("--line-bytes", type=int, default=1000)
    ap.add_argument("--interval", type=float, default=0.005)
    ap.add_argument("--max-seconds", type=float, default=120)
    ap.add_argument("--no-stdin", action="store_true")
    a = ap.parse_args()
    signal.alarm(int(a.max_seconds) + 5)
    asyncio.run(main(a))

#!/usr/bin/python3
"""connect_proxy.py - a small HTTP CONNECT proxy for tests (plain asyncio).

Listens on 127.0.0.1 (or --host ::1) at a free port, prints `PORT <n>` once
listening, exits on SIGTERM/SIGINT, stdin EOF (unless --no-stdin) or after
--max-seconds.

Only `CONNECT host:port HTTP/1.1` is served (405 otherwise), and only to
127.0.0.1, ::1 ([::1]) or localhost (403 otherwise). With --auth user:pass a
`Proxy-Authorization: Basic ...` header must match (407 with
Proxy-Authenticate otherwise). 502 when the target refuses the connection.
Prints one line per request: `TUNNEL <n> <host>:<port>` for each tunnel opened
(n counts from 1), `REFUSED <status> <target>` for each refusal.
"""
import argparse
import asyncio
import base64
import signal
import sys

from peerlib import say, stop_event

ALLOWED = {"127.0.0.1", "::1", "localhost"}


async def read_head(reader, limit=16384):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = await reader.read(4096)
        if not chunk:
            return None, b""
        data += chunk
        if len(data) > limit:
            return None, b""
    head, _, rest = data.partition(b"\r\n\r\n")
    return head.decode("latin-1"), rest


def split_target(target):
    """'host:port' or '[v6]:port' -> (host, port) or None."""
    if target.startswith("["):
        host, sep, port = target[1:].partition("]:")
    else:
        host, sep, port = target.rpartition(":")
    if not sep or not port.isdigit() or not (0 < int(port) < 65536):
        return None
    return host, int(port)


async def pipe(src, dst):
    try:
        while True:
            data = await src.read(65536)
            if not data:
                break
            dst.write(data)
            await dst.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        try:
            if dst.can_write_eof():
                dst.write_eof()
        except (OSError, RuntimeError):
            pass


class Proxy:
    def __init__(self, args):
        self.args = args
        self.tunnels = 0
        self.expected = None
        if args.auth:
            self.expected = "Basic " + base64.b64encode(args.auth.encode()).decode()

    async def refuse(self, writer, status, reason, target, extra=""):
        say(f"REFUSED {status} {target}")
        body = f"{status} {reason}\n"
        writer.write((f"HTTP/1.1 {status} {reason}\r\n{extra}Content-Type: text/plain\r\n"
                      f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n{body}").encode())
        await writer.drain()

    async def client(self, reader, writer):
        up_writer = None
        try:
            head, rest = await read_head(reader)
            if head is None:
                return
            lines = head.split("\r\n")
            parts = lines[0].split(" ")
            if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
                await self.refuse(writer, 400, "Bad Request", "-")
                return
            method, target = parts[0], parts[1]
            if method != "CONNECT":
                await self.refuse(writer, 405, "Method Not Allowed", target)
                return
            headers = {}
            for line in lines[1:]:
                k, sep, v = line.partition(":")
                if sep:
                    headers[k.strip().lower()] = v.strip()
            if self.expected is not None and headers.get("proxy-authorization") != self.expected:
                await self.refuse(writer, 407, "Proxy Authentication Required", target,
                                  'Proxy-Authenticate: Basic realm="wsc-test"\r\n')
                return
            hp = split_target(target)
            if hp is None:
                await self.refuse(writer, 400, "Bad Request", target)
                return
            host, port = hp
            if host not in ALLOWED:
                await self.refuse(writer, 403, "Forbidden", target)
                return
            try:
                up_reader, up_writer = await asyncio.wait_for(
                    asyncio.open_connection(host, port), 5)
            except (OSError, asyncio.TimeoutError):
                await self.refuse(writer, 502, "Bad Gateway", target)
                return
            self.tunnels += 1
            say(f"TUNNEL {self.tunnels} {target}")
            writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
            if rest:
                up_writer.write(rest)
            await writer.drain()
            await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            for w in (writer, up_writer):
                if w is not None:
                    w.close()


async def main(args):
    stop = stop_event(args.no_stdin)

    proxy = Proxy(args)
    server = await asyncio.start_server(proxy.client, args.host, 0)
    say(f"PORT {server.sockets[0].getsockname()[1]}")
    try:
        await asyncio.wait_for(stop.wait(), args.max_seconds)
    except asyncio.TimeoutError:
        print("connect_proxy: --max-seconds reached", file=sys.stderr)
    server.close()


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--host", default="127.0.0.1", choices=["127.0.0.1", "::1", "localhost"])
    ap.add_argument("--auth", metavar="USER:PASS")
    ap.add_argument("--max-seconds", type=float, default=120)
    ap.add_argument("--no-stdin", action="store_true")
    a = ap.parse_args()
    signal.alarm(int(a.max_seconds) + 5)
    asyncio.run(main(a))

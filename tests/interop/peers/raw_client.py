#!/usr/bin/python3
"""raw_client.py - a hand-written client (standard library only) that sends
what a real client library never would, for the wsc server tests
(tests/interop/test_server*.c).

  raw_client.py HOST PORT --mode MODE [options]

Prints what it saw as lines on stdout and exits 0 when it could carry out the
mode (the test judges the lines), 1 when not (with a `FAIL <why>` line).
Stops on SIGTERM, on stdin EOF where it waits (unless --no-stdin) and after
--max-seconds.

Modes (--mode):
  http        send each --request (Python escapes allowed: "\\r\\n") on its own
              connection, read the answer to EOF, print `RESP <i> <status>`,
              `HDR <i> <Name>: <value>` per header, `BODY <i> <length> <text>`
              (the body's first 200 bytes, escaped)
  slowloris   send half a request head and wait: `SERVER_CLOSED <bytes got>`
              once the server closes the connection
  unmasked    after the handshake send an unmasked text frame
  bad-utf8    send a text frame that is not UTF-8 (0xff 0xfe)
  big-frame   announce a binary frame of --length bytes, send --send-bytes of it;
              with --hold print `ACKED` once the server's kernel has taken it
              all, then wait for stdin EOF and exit
  pieces      send --repeat messages, each as frames of the --frames sizes
              (comma-separated; "p" is a Ping between two frames), all written
              at once; binary, or with --text multi-byte UTF-8 split across
              frames anywhere (--bad-at N: an invalid byte at offset N); check
              each echo byte for byte and its type: `ECHO <i> <length> ok|bad`, then
              `PONGS <n>`, then Close 1000
  ping-flood  send --count pings, count the pongs (`PONGS <n>`), close 1000
  deflate-bomb  offer permessage-deflate, print `EXT <the 101's value or ->`,
              send one compressed binary message of --length zeros (10 MB:
              about 10 KB on the wire)
  reset       send the text --send, read until --count bytes came, then end
              TCP with a reset (SO_LINGER 0): `RESET`
  no-read     send the text --send, then never read until stdin EOF (or
              --max-seconds): `UNREAD <bytes then readable> <EOF|OPEN>`
  close       send Close 1000 "bye" and read the answer
With --ca FILE every connection after the handshake's TCP connect speaks TLS
(verified against FILE); the end of the stream without the server's
close_notify is reported as `EOF SSLError` instead of `EOF`.
After the handshake (every mode but http/slowloris) the client reads frames
and prints `CLOSE <code> <reason>` for the server's Close frame and `EOF` when
the server ends TCP; `STATUS <n>` if the handshake was refused.
"""
import argparse
import base64
import fcntl
import os
import select
import signal
import socket
import ssl
import struct
import sys
import termios
import threading
import time

from peerlib import say

REQ = ("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
       "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n\r\n")


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("host")
    ap.add_argument("port", type=int)
    ap.add_argument("--mode", required=True,
                    choices=["http", "slowloris", "unmasked", "bad-utf8", "big-frame",
                             "ping-flood", "no-read", "deflate-bomb", "pieces", "reset",
                             "close"])
    ap.add_argument("--request", action="append", default=[])
    ap.add_argument("--length", type=int, default=2 * 1024 * 1024)
    ap.add_argument("--send-bytes", type=int, default=1024)
    ap.add_argument("--count", type=int, default=10000)
    ap.add_argument("--send", default="flood")
    ap.add_argument("--frames", default="70000,1,p,300000")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--text", action="store_true")
    ap.add_argument("--bad-at", type=int, default=-1)
    ap.add_argument("--max-seconds", type=float, default=50)
    ap.add_argument("--no-stdin", action="store_true")
    ap.add_argument("--hold", action="store_true")
    ap.add_argument("--ca")
    return ap.parse_args()


def frame(op, payload, mask=True, fin=True):
    """One client frame (masked unless mask is False)."""
    b0 = (0x80 if fin else 0) | op
    n = len(payload)
    if n < 126:
        head = struct.pack("!BB", b0, (0x80 if mask else 0) | n)
    elif n < 65536:
        head = struct.pack("!BBH", b0, (0x80 if mask else 0) | 126, n)
    else:
        head = struct.pack("!BBQ", b0, (0x80 if mask else 0) | 127, n)
    if not mask:
        return head + payload
    key = os.urandom(4)
    return head + key + bytes(c ^ key[i % 4] for i, c in enumerate(payload))


def recv_exact(sock, n):
    out = b""
    while len(out) < n:
        chunk = sock.recv(n - len(out))
        if not chunk:
            return None
        out += chunk
    return out


def read_frame(sock):
    """(opcode, payload) of the next server frame, None at EOF."""
    head = recv_exact(sock, 2)
    if head is None:
        return None
    n = head[1] & 0x7F
    if n == 126:
        n = struct.unpack("!H", recv_exact(sock, 2) or b"\0\0")[0]
    elif n == 127:
        n = struct.unpack("!Q", recv_exact(sock, 8) or b"\0" * 8)[0]
    if head[1] & 0x80:
        recv_exact(sock, 4)  # a masked server frame: the tests look for CLOSE lines
    payload = recv_exact(sock, n) if n else b""
    if payload is None:
        return None
    return head[0] & 0x0F, payload


def handshake(host, port, extra="", ca=None):
    """A connected socket after a 101, or None (STATUS printed)."""
    sock = socket.create_connection((host, port), timeout=20)
    if ca:  # a truncated stream must show: no ragged EOFs passed off as EOF
        ctx = ssl.create_default_context(cafile=ca)
        ctx.options &= ~ssl.OP_IGNORE_UNEXPECTED_EOF  # Python sets it by default
        sock = ctx.wrap_socket(sock, server_hostname=host, suppress_ragged_eofs=False)
    key = base64.b64encode(os.urandom(16)).decode()
    sock.sendall((REQ % key).replace("\r\n\r\n", "\r\n" + extra + "\r\n").encode())
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        if not chunk:
            say("FAIL connection closed during the handshake")
            return None, b""
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    status = int(head.split(b" ", 2)[1])
    if status != 101:
        say("STATUS %d" % status)
        return None, b""
    if extra:
        ext = [l.split(b":", 1)[1].strip() for l in head.split(b"\r\n")
               if l.lower().startswith(b"sec-websocket-extensions:")]
        say("EXT " + (ext[0].decode() if ext else "-"))
    return sock, rest


def read_until_close(sock, counts=None):
    """Print CLOSE / EOF lines; count pongs into counts. Returns the close code."""
    code = None
    while True:
        try:
            f = read_frame(sock)
        except (ConnectionResetError, socket.timeout, ssl.SSLError) as e:
            say("EOF %s" % type(e).__name__)
            return code
        if f is None:
            say("EOF")
            return code
        op, payload = f
        if op == 0xA and counts is not None:
            counts["pongs"] += 1
        elif op == 0x8:
            code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005
            say("CLOSE %d %s" % (code, payload[2:].decode("utf-8", "replace")))
            if counts is not None and not counts.get("closed"):
                counts["closed"] = True
                try:
                    sock.sendall(frame(0x8, payload[:2]))
                except OSError:
                    pass


def pieces(args, sock):
    """Messages in frames of the given sizes, pings between; echoes checked."""
    sizes = [x for x in args.frames.split(",") if x != "p"]
    total = sum(int(x) for x in sizes)
    if args.text:  # 1-, 2-, 3- and 4-byte sequences, cut anywhere by the frame sizes
        unit = "a\u00e9\u20ac\U0001f600".encode()
        text = unit * (total // len(unit) + 2)
        cut = total
        while cut and text[cut] & 0xC0 == 0x80:  # end on a whole character
            cut -= 1
        msg = bytearray(text[:cut] + b"a" * (total - cut))
        if args.bad_at >= 0:
            msg[args.bad_at] = 0xFF
    else:
        msg = bytearray(os.urandom(total))
    out, pings, off = bytearray(), 0, 0
    specs = args.frames.split(",")
    last = max(i for i, x in enumerate(specs) if x != "p")
    first = True
    for i, x in enumerate(specs):
        if x == "p":
            out += frame(0x9, b"between")
            pings += 1
            continue
        n = int(x)
        op = (0x1 if args.text else 0x2) if first else 0x0
        out += frame(op, bytes(msg[off:off + n]), fin=(i == last))
        off += n
        first = False
    counts = {"pongs": 0}
    sock.settimeout(30)
    for r in range(args.repeat):
        sock.sendall(out)
        while True:
            f = read_frame(sock)
            if f is None:
                say("EOF")
                return 0
            op, payload = f
            if op == 0xA:
                counts["pongs"] += 1
            elif op == 0x8:
                code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005
                say("CLOSE %d %s" % (code, payload[2:].decode("utf-8", "replace")))
                read_until_close(sock)
                return 0
            else:
                good = payload == msg and op == (0x1 if args.text else 0x2)
                say("ECHO %d %d %s" % (r, len(payload), "ok" if good else "bad"))
                break
    say("PONGS %d" % counts["pongs"])
    sock.sendall(frame(0x8, struct.pack("!H", 1000) + b"pieces done"))
    read_until_close(sock)
    return 0


def wait_stdin(args):
    """Block until stdin EOF (or --max-seconds)."""
    deadline = time.monotonic() + args.max_seconds
    while time.monotonic() < deadline:
        if args.no_stdin:
            time.sleep(0.1)
            continue
        r, _, _ = select.select([0], [], [], 0.1)
        if r and not os.read(0, 4096):
            return


def http(args):
    for i, req in enumerate(args.request):
        raw = req.encode("latin-1").decode("unicode_escape").encode("latin-1")
        sock = socket.create_connection((args.host, args.port), timeout=20)
        sock.sendall(raw)
        data = b""
        while True:
            try:
                chunk = sock.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            data += chunk
        sock.close()
        head, _, body = data.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        if not lines[0].startswith("HTTP/1.1 "):
            say("RESP %d none %r" % (i, data[:80]))
            continue
        say("RESP %d %s" % (i, lines[0].split(" ")[1]))
        for h in lines[1:]:
            say("HDR %d %s" % (i, h))
        say("BODY %d %d %s" % (i, len(body), body[:200].decode("latin-1").encode(
            "unicode_escape").decode()))
    return 0


def slowloris(args):
    sock = socket.create_connection((args.host, args.port), timeout=args.max_seconds)
    sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: webs")
    got = b""
    try:
        while True:
            chunk = sock.recv(4096)
            if not chunk:
                break
            got += chunk
    except socket.timeout:
        say("FAIL the server kept the connection open")
        return 1
    except ConnectionResetError:
        pass
    say("SERVER_CLOSED %d" % len(got))
    return 0


def main(args):
    if args.mode == "http":
        return http(args)
    if args.mode == "slowloris":
        return slowloris(args)
    extra = "Sec-WebSocket-Extensions: permessage-deflate\r\n" if args.mode == "deflate-bomb" else ""
    sock, rest = handshake(args.host, args.port, extra, args.ca)
    if sock is None:
        return 1
    if rest:
        say("FAIL bytes after the 101: %r" % rest[:40])
    if args.mode == "unmasked":
        sock.sendall(frame(0x1, b"hello", mask=False))
    elif args.mode == "bad-utf8":
        sock.sendall(frame(0x1, b"ok \xff\xfe"))
    elif args.mode == "deflate-bomb":
        import zlib
        z = zlib.compressobj(9, zlib.DEFLATED, -15)
        data = z.compress(b"\0" * args.length) + z.flush(zlib.Z_SYNC_FLUSH)
        try:
            sock.sendall(frame(0x40 | 0x2, data[:-4]))  # RSV1: compressed
        except OSError:
            pass
    elif args.mode == "big-frame":
        head = struct.pack("!BBQ", 0x82, 0x80 | 127, args.length) + os.urandom(4)
        try:
            sock.sendall(head + b"\0" * args.send_bytes)
        except OSError:
            pass
        if args.hold:
            unacked = 1
            deadline = time.monotonic() + 10
            while unacked and time.monotonic() < deadline:  # SIOCOUTQ: bytes not yet acked
                unacked = struct.unpack("i", fcntl.ioctl(sock, termios.TIOCOUTQ, b"\0" * 4))[0]
                time.sleep(0.01)
            say("ACKED" if not unacked else "FAIL %d bytes never acked" % unacked)
            wait_stdin(args)
            return 0
    elif args.mode == "ping-flood":
        counts = {"pongs": 0}
        reader = threading.Thread(target=read_until_close, args=(sock, counts), daemon=True)
        reader.start()
        ping = frame(0x9, b"flood-ping")
        batch = ping * 100
        for _ in range(args.count // 100):
            sock.sendall(batch)
        sock.sendall(ping * (args.count % 100))
        deadline = time.monotonic() + args.max_seconds
        while counts["pongs"] < args.count and reader.is_alive() and time.monotonic() < deadline:
            time.sleep(0.01)
        say("PONGS %d" % counts["pongs"])
        counts["closed"] = True  # our Close now: the reader prints the answer
        sock.sendall(frame(0x8, struct.pack("!H", 1000) + b"flood over"))
        reader.join(args.max_seconds)
        return 0
    elif args.mode == "pieces":
        return pieces(args, sock)
    elif args.mode == "close":
        sock.sendall(frame(0x8, struct.pack("!H", 1000) + b"bye"))
    elif args.mode == "reset":
        sock.sendall(frame(0x1, args.send.encode()))
        got = len(rest)
        while got < args.count:
            chunk = sock.recv(65536)
            if not chunk:
                say("FAIL EOF after %d bytes" % got)
                return 1
            got += len(chunk)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        sock.close()
        say("RESET")
        return 0
    elif args.mode == "no-read":
        sock.sendall(frame(0x1, args.send.encode()))
        say("SENT")
        wait_stdin(args)
        sock.settimeout(5)
        total, state = 0, "OPEN"
        deadline = time.monotonic() + 5
        try:
            while time.monotonic() < deadline:
                chunk = sock.recv(1 << 20)
                if not chunk:
                    state = "EOF"
                    break
                total += len(chunk)
        except ConnectionResetError:
            state = "EOF"
        except socket.timeout:
            pass
        say("UNREAD %d %s" % (total, state))
        return 0
    read_until_close(sock)
    return 0


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, lambda *_: os._exit(1))
    sys.exit(main(parse_args()))

#!/usr/bin/python3
"""tls_close_server.py - a TLS WebSocket server (standard library only) that
checks how a client ends the TLS session, for test_client.c.

  tls_close_server.py CERT KEY

Prints `PORT <n>` and serves one connection: the opening handshake (no
extension accepted), a Close 1000 "bye", the client's answer (`CLOSE <code>`),
then its own close_notify, and waits for the client's: `CLOSE_NOTIFY` when it
came, `NO_CLOSE_NOTIFY <error>` when the client ended TCP without it (ragged
EOFs are reported: Python's default OP_IGNORE_UNEXPECTED_EOF is cleared).
Exits after that connection, or after 20 s without one.
"""
import base64
import hashlib
import socket
import ssl
import struct
import sys

from peerlib import say

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


def recv_exact(s, n):
    out = b""
    while len(out) < n:
        chunk = s.recv(n - len(out))
        if not chunk:
            raise EOFError("the client ended the stream")
        out += chunk
    return out


def main():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(sys.argv[1], sys.argv[2])
    ctx.options &= ~ssl.OP_IGNORE_UNEXPECTED_EOF
    ls = socket.socket()
    ls.bind(("127.0.0.1", 0))
    ls.listen(1)
    ls.settimeout(20)
    say("PORT %d" % ls.getsockname()[1])
    raw, _ = ls.accept()
    raw.settimeout(20)
    s = ctx.wrap_socket(raw, server_side=True, suppress_ragged_eofs=False)
    head = b""
    while b"\r\n\r\n" not in head:
        head += recv_exact(s, 1)
    key = [line.split(b":", 1)[1].strip() for line in head.split(b"\r\n")
           if line.lower().startswith(b"sec-websocket-key:")][0]
    accept = base64.b64encode(hashlib.sha1(key + GUID).digest())
    s.sendall(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
              b"Connection: Upgrade\r\nSec-WebSocket-Accept: " + accept + b"\r\n\r\n")
    s.sendall(struct.pack("!BBH", 0x88, 5, 1000) + b"bye")
    b0, b1 = recv_exact(s, 2)
    mask = recv_exact(s, 4) if b1 & 0x80 else b"\0\0\0\0"
    payload = bytes(c ^ mask[i % 4] for i, c in enumerate(recv_exact(s, b1 & 0x7F)))
    code = struct.unpack("!H", payload[:2])[0] if len(payload) >= 2 else 1005
    say("CLOSE %d" % code if b0 & 0x0F == 8 else "FAIL not a Close: opcode %d" % (b0 & 0x0F))
    try:
        s.unwrap()  # our close_notify, then the client's
        say("CLOSE_NOTIFY")
    except (ssl.SSLError, OSError) as e:
        say("NO_CLOSE_NOTIFY %s" % type(e).__name__)
    return 0


if __name__ == "__main__":
    sys.exit(main())

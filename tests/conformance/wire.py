"""wire.py - the fuzzer's end of one WebSocket connection, at the byte level.

Frames are built by hand (so a case can set any bit, length or mask) and the
peer's frames are parsed strictly: whatever the peer under test sends that
breaks RFC 6455 is recorded as a violation, which fails the case. Everything
is non-blocking with deadlines: a peer that stalls or floods cannot hang the
fuzzer, and sending never deadlocks against a peer that echoes while we are
still writing (we keep reading while we write).

Roles: as a server (testing a client) we send unmasked frames and require
masked ones; as a client (testing a server) the reverse.
"""
import base64
import errno
import hashlib
import os
import selectors
import socket
import struct
import time

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

CONT, TEXT, BINARY, CLOSE, PING, PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA
KNOWN_OPS = {CONT, TEXT, BINARY, CLOSE, PING, PONG}
RSV1 = 4  # in build_frame's rsv argument (the 3-bit field RSV1 RSV2 RSV3)

# Close codes a peer may put on the wire (RFC 6455 7.4 and the IANA
# registry: 1012-1014 are registered; 1004-1006 and 1015 never go on the wire).
def close_code_valid(code):
    """True if code may appear in a Close frame."""
    return 1000 <= code <= 1003 or 1007 <= code <= 1014 or 3000 <= code <= 4999


def accept_for(key):
    """The Sec-WebSocket-Accept value (bytes) for a Sec-WebSocket-Key."""
    return base64.b64encode(hashlib.sha1(key + GUID).digest())


def xor_mask(data, key):
    """data XOR the repeated 4-byte key, as bytes (fast for 16 MiB: one big int)."""
    n = len(data)
    if n == 0:
        return b""
    full = (key * (n // 4 + 1))[:n]
    return (int.from_bytes(data, "little") ^ int.from_bytes(full, "little")).to_bytes(n, "little")


def build_frame(op, payload=b"", fin=True, rsv=0, mask=None, length=None):
    """Encode one frame. mask: 4 bytes to mask with, or None for unmasked.
    length overrides the encoded length form: 'short', '16', '64' (to forge
    non-minimal encodings). Returns bytes."""
    b0 = (0x80 if fin else 0) | ((rsv & 7) << 4) | (op & 0xF)
    n = len(payload)
    mbit = 0x80 if mask is not None else 0
    form = length or ("short" if n < 126 else "16" if n < 65536 else "64")
    if form == "short":
        head = struct.pack("!BB", b0, mbit | n)
    elif form == "16":
        head = struct.pack("!BBH", b0, mbit | 126, n)
    else:
        head = struct.pack("!BBQ", b0, mbit | 127, n)
    if mask is not None:
        return head + mask + xor_mask(payload, mask)
    return head + payload


def close_body(code=None, reason=b""):
    """A Close payload: empty when code is None."""
    if code is None:
        return b""
    return struct.pack("!H", code) + reason


class PeerClosed(Exception):
    """Raised by a send when the peer has already gone."""


class Conn:
    """The fuzzer's end of an open WebSocket connection.

    obs is what the peer did, in order: ("message", "text"|"binary", bytes)
    and ("pong", bytes). violations lists the rules the peer broke.
    """

    def __init__(self, sock, role, leftover=b""):
        self.sock = sock
        self.role = role  # "server" or "client": our role
        sock.setblocking(False)
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        except OSError:
            pass
        self.sel = selectors.DefaultSelector()
        self.sel.register(sock, selectors.EVENT_READ)
        self.rx = bytearray(leftover)
        self.obs = []
        self.violations = []
        self.pings_from_peer = 0
        self.msg_op = None
        self.msg_parts = []
        self.close_sent = False      # we sent a Close
        self.close_sent_at = None
        self.peer_close = None       # (code or None, reason bytes) once received
        self.peer_close_at = None
        self.peer_initiated = False  # the peer's Close (or drop) came before ours
        self.eof = False             # TCP ended (FIN or reset)
        self.eof_at = None
        self.reset = False
        self.send_error = None
        self.tcp_closed_by_me = False
        self.event_count = 0         # messages + pongs
        self.pmd_rx = None           # pmd.Receiver once permessage-deflate is agreed
        self.pmd_tx = None           # pmd.Compressor likewise
        self.msg_compressed = False
        self.last_rx = time.monotonic()
        self._parsing = False        # inside _parse: sends must not read

    # ---- sending -------------------------------------------------------

    def mask_key(self):
        """A masking key when we are the client, else None."""
        return os.urandom(4) if self.role == "client" else None

    def frame(self, op, payload=b"", fin=True, rsv=0, mask="auto", length=None):
        """A frame from us; masked as our role requires unless mask is given
        (None forces unmasked, bytes force that key)."""
        if mask == "auto":
            mask = self.mask_key()
        return build_frame(op, payload, fin, rsv, mask, length)

    def gone(self):
        """True once the peer closed, reset, or a send failed: sending stops."""
        return self.eof or self.send_error is not None

    def send(self, data, deadline):
        """Write all of data by the deadline, reading (and handling) what the
        peer sends meanwhile. Raises PeerClosed if the peer is gone,
        TimeoutError past the deadline."""
        view = memoryview(data)
        while len(view):
            if self.gone():
                raise PeerClosed()
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("send timed out")
            # while parsing (answering a Ping or Close) only write: reading
            # here would re-enter the parser
            events = selectors.EVENT_WRITE if self._parsing else \
                selectors.EVENT_READ | selectors.EVENT_WRITE
            self.sel.modify(self.sock, events)
            try:
                ready = self.sel.select(min(left, 0.5))
            finally:
                self.sel.modify(self.sock, selectors.EVENT_READ)
            for _key, ev in ready:
                if ev & selectors.EVENT_READ and not self._parsing:
                    self._read_once()
                if ev & selectors.EVENT_WRITE and not self.gone():
                    try:
                        n = self.sock.send(view[:1 << 20])
                        view = view[n:]
                    except (BlockingIOError, InterruptedError):
                        pass
                    except OSError as e:
                        self.send_error = e.errno or errno.EPIPE
                        raise PeerClosed() from e

    def send_close(self, code=None, reason=b"", deadline=None, raw_body=None):
        """Send a Close frame (raw_body overrides the encoded body)."""
        body = raw_body if raw_body is not None else close_body(code, reason)
        self.close_sent = True
        self.close_sent_at = time.monotonic()
        self.send(self.frame(CLOSE, body), deadline or time.monotonic() + 5)

    def shutdown(self):
        """Close TCP from our side."""
        if not self.tcp_closed_by_me:
            self.tcp_closed_by_me = True
            try:
                self.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    # ---- receiving -----------------------------------------------------

    def pump(self, deadline, until=None):
        """Read and handle frames until until() is true, the peer's TCP ends,
        or the deadline. Returns until()'s final value (True if until is None
        and the deadline was reached)."""
        while True:
            if until is not None and until():
                return True
            if self.eof:
                return until() if until else True
            left = deadline - time.monotonic()
            if left <= 0:
                return until() if until else True
            if self.sel.select(min(left, 0.5)):
                self._read_once()

    def _read_once(self):
        try:
            data = self.sock.recv(1 << 20)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
            self.reset = True
        if not data:
            if not self.eof:
                self.eof = True
                self.eof_at = time.monotonic()
                if not self.close_sent and self.peer_close is None:
                    self.peer_initiated = True
            return
        self.last_rx = time.monotonic()
        if self.peer_close is not None:
            return  # nothing may follow a Close; ignore it
        self.rx += data
        self._parsing = True
        try:
            self._parse()
        finally:
            self._parsing = False

    def _violate(self, why):
        if why not in self.violations:
            self.violations.append(why)

    def _parse(self):
        buf = self.rx
        off = 0
        while self.peer_close is None:
            if len(buf) - off < 2:
                break
            b0, b1 = buf[off], buf[off + 1]
            n = b1 & 0x7F
            hlen = 2 + (2 if n == 126 else 8 if n == 127 else 0) + (4 if b1 & 0x80 else 0)
            if len(buf) - off < hlen:
                break
            p = off + 2
            if n == 126:
                n = struct.unpack_from("!H", buf, p)[0]
                p += 2
                if n < 126:
                    self._violate("non-minimal 16-bit length")
            elif n == 127:
                n = struct.unpack_from("!Q", buf, p)[0]
                p += 8
                if n < 65536 or n >> 63:
                    self._violate("non-minimal or oversized 64-bit length")
            if len(buf) - off < hlen + n:
                break
            masked = bool(b1 & 0x80)
            key = bytes(buf[p:p + 4]) if masked else None
            payload = bytes(buf[off + hlen:off + hlen + n])
            if masked:
                payload = xor_mask(payload, key)
            off += hlen + n
            if self.role == "server" and not masked:
                self._violate("client sent an unmasked frame")
            if self.role == "client" and masked:
                self._violate("server sent a masked frame")
            self._frame(b0, payload)
        del buf[:off]

    def _frame(self, b0, payload):
        fin, rsv, op = bool(b0 & 0x80), (b0 >> 4) & 7, b0 & 0xF
        # permessage-deflate: RSV1 marks the first frame of a compressed
        # message and nothing else (RFC 7692 section 6)
        # (rsv here is the 3-bit field: RSV1 is 4, RSV3 is 1)
        rsv1_ok = self.pmd_rx is not None and op in (TEXT, BINARY)
        if rsv & ~(RSV1 if rsv1_ok else 0):
            if self.pmd_rx is None:
                self._violate("peer set RSV bits %d without an extension" % rsv)
            else:
                self._violate("peer set RSV bits %d on a %s frame" % (
                    rsv, "continuation" if op == CONT else "control" if op >= 8 else "data"))
        if op not in KNOWN_OPS:
            self._violate("peer sent reserved opcode %d" % op)
            return
        if op >= 8:
            if not fin:
                self._violate("peer fragmented a control frame")
            if len(payload) > 125:
                self._violate("peer sent a control frame over 125 bytes")
            if op == PING:
                self.pings_from_peer += 1
                if not self.close_sent and not self.gone():
                    try:
                        self.send(self.frame(PONG, payload), time.monotonic() + 2)
                    except (PeerClosed, TimeoutError):
                        pass
            elif op == PONG:
                self.obs.append(("pong", payload))
                self.event_count += 1
            else:
                self._on_close(payload)
            return
        if op == CONT:
            if self.msg_op is None:
                self._violate("peer sent a continuation with no message open")
                return
        else:
            if self.msg_op is not None:
                self._violate("peer started a message inside another")
            self.msg_op = op
            self.msg_parts = []
            self.msg_compressed = bool(rsv & RSV1) and rsv1_ok
        self.msg_parts.append(payload)
        if fin:
            data = b"".join(self.msg_parts)
            if self.msg_compressed:
                try:
                    data = self.pmd_rx.inflate(data)
                except Exception as e:  # pmd.InflateError, or a bug: both fail the case
                    self._violate("compressed message %d does not inflate: %s" % (
                        self.event_count + 1, e))
                    data = b"<not inflatable>"
            kind = "text" if self.msg_op == TEXT else "binary"
            if kind == "text":
                try:
                    data.decode("utf-8")
                except UnicodeDecodeError:
                    self._violate("peer sent a text message that is not UTF-8")
            self.obs.append(("message", kind, data))
            self.event_count += 1
            self.msg_op = None
            self.msg_parts = []

    def _on_close(self, body):
        code, reason = None, b""
        if len(body) == 1:
            self._violate("peer sent a Close with a 1-byte body")
        elif len(body) >= 2:
            code = struct.unpack("!H", body[:2])[0]
            reason = body[2:]
            if not close_code_valid(code):
                self._violate("peer sent invalid close code %d" % code)
            try:
                reason.decode("utf-8")
            except UnicodeDecodeError:
                self._violate("peer sent a close reason that is not UTF-8")
        self.peer_close = (code, reason)
        self.peer_close_at = time.monotonic()
        if not self.close_sent:
            self.peer_initiated = True
            # answer it, echoing the code as Autobahn does
            try:
                self.send_close(code if code is not None and close_code_valid(code) else None,
                                deadline=time.monotonic() + 2)
            except (PeerClosed, TimeoutError):
                pass
        if self.role == "server":
            self.shutdown()  # the server closes TCP first (RFC 6455 7.1.1)

    def close(self):
        """Release the socket."""
        try:
            self.sel.close()
        except Exception:
            pass
        try:
            self.sock.close()
        except OSError:
            pass


# ---- opening handshake ---------------------------------------------------

def read_head(sock, deadline, limit=16384):
    """Read an HTTP head (through the blank line). Returns (head bytes,
    leftover bytes) or (None, b"") on EOF, overflow or timeout."""
    data = b""
    sock.setblocking(True)
    while b"\r\n\r\n" not in data:
        left = deadline - time.monotonic()
        if left <= 0 or len(data) > limit:
            return None, b""
        sock.settimeout(left)
        try:
            chunk = sock.recv(4096)
        except OSError:
            return None, b""
        if not chunk:
            return None, b""
        data += chunk
    i = data.index(b"\r\n\r\n") + 4
    return data[:i], data[i:]


def parse_head(head):
    """(first line, {lowercase name: value}) of an HTTP head. Repeated
    Sec-WebSocket-Extensions lines are joined with ", " (one list)."""
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            k, v = line.split(":", 1)
            k, v = k.strip().lower(), v.strip()
            if k == "sec-websocket-extensions" and headers.get(k):
                v = headers[k] + ", " + v
            headers[k] = v
    return lines[0], headers


def client_handshake(host, port, path, timeout=10):
    """Connect and upgrade as a client. Returns (socket, leftover bytes) or
    raises OSError / ValueError with what went wrong."""
    sock, rest, _ext = client_handshake_ext(host, port, path, None, timeout)
    return sock, rest


def client_handshake_ext(host, port, path, offer, timeout=10):
    """As client_handshake, offering the extensions in `offer` (a header
    value, or None for no header). Returns (socket, leftover bytes, the
    response's Sec-WebSocket-Extensions value or "")."""
    deadline = time.monotonic() + timeout
    sock = socket.create_connection((host, port), timeout=timeout)
    key = base64.b64encode(os.urandom(16))
    req = ("GET %s HTTP/1.1\r\nHost: %s:%d\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           "Sec-WebSocket-Key: %s\r\nSec-WebSocket-Version: 13\r\n%s"
           "User-Agent: wsc-fuzzer\r\n\r\n" % (
               path, host, port, key.decode(),
               "Sec-WebSocket-Extensions: %s\r\n" % offer if offer else ""))
    sock.sendall(req.encode())
    head, rest = read_head(sock, deadline)
    if head is None:
        sock.close()
        raise ValueError("no handshake response")
    status, headers = parse_head(head)
    if status.split(" ")[1:2] != ["101"]:
        sock.close()
        raise ValueError("handshake refused: " + status)
    if headers.get("sec-websocket-accept", "").encode() != accept_for(key):
        sock.close()
        raise ValueError("bad Sec-WebSocket-Accept")
    ext = headers.get("sec-websocket-extensions", "")
    if ext and not offer:
        sock.close()
        raise ValueError("server negotiated an extension we did not offer")
    return sock, rest, ext

"""cases.py - the case list, modelled on the Autobahn Testsuite sections 1-7,
9, 10, 12 and 13, and the runner that turns what a peer did into a verdict.
Sections 12 and 13 (permessage-deflate) are in pmdcases.py and are selected
only on request (--cases 12.*,13.* or all): see select().

A case is a function run(s) that sends frames through a Session s, plus the
expected behaviour:
  ok / nonstrict  lists of alternative observation lists: what the peer may
                  send back (messages and pongs, in order). Matching an `ok`
                  alternative is OK, a `nonstrict` one NON-STRICT, none FAILED.
  closed_by       "me": the fuzzer closes (with 1000 unless run() sent its own
                  Close) and the peer must answer with a Close whose code is
                  in `codes` (or empty); "peer": the peer must fail the
                  connection itself: a Close with a code in `codes`, or just
                  dropping TCP.
  fail_fast       for "peer" cases with a checkpoint: failing after the
                  checkpoint (e.g. at the end of the message instead of at the
                  first bad byte) is NON-STRICT.
The peer under test is an echo endpoint: it sends every message back.
"""
import time

from wire import BINARY, CLOSE, CONT, PING, PONG, TEXT, PeerClosed

OK, NON_STRICT, FAILED = "OK", "NON-STRICT", "FAILED"
# a permessage-deflate case whose parameters the peer did not negotiate
# (Autobahn's convention): not a failure
UNIMPLEMENTED = "UNIMPLEMENTED"
RANK = {OK: 0, UNIMPLEMENTED: 0, NON_STRICT: 1, FAILED: 2}


def T(payload):
    """An expected echoed text message."""
    return ("message", "text", payload if isinstance(payload, bytes) else payload.encode())


def B(payload):
    """An expected echoed binary message."""
    return ("message", "binary", payload)


def P(payload=b""):
    """An expected pong."""
    return ("pong", payload if isinstance(payload, bytes) else payload.encode())


class Case:
    """One test case (see the module comment)."""

    def __init__(self, cid, desc, run, ok=None, nonstrict=(), closed_by="me", codes=(1000,),
                 require_clean=True, fail_fast=False, timeout=10.0, expect="", pmd=None):
        self.id = cid
        # permessage-deflate cases: {"offers": [(nct, bits)] we offer as a
        # client, "accept": [(nct, bits)] we accept as a server, "compressible":
        # whether a peer that never compresses is NON-STRICT} (see pmd.py)
        self.pmd = pmd
        self.desc = desc
        self.run = run
        # ok may be a function returning the list, so that the 16 MiB
        # expected payloads are only built when their case runs
        self._ok = ok if ok is not None else [[]]
        self.nonstrict = list(nonstrict)
        self.closed_by = closed_by
        self.codes = tuple(codes)
        self.require_clean = require_clean
        self.fail_fast = fail_fast
        self.timeout = timeout
        self.expect = expect or self.describe_expectation()

    def ok_lists(self):
        """The OK alternatives (built now if given as a function)."""
        return self._ok() if callable(self._ok) else self._ok

    def describe_expectation(self):
        """A one-line text of what the peer must do."""
        if self.closed_by == "peer":
            text = "fail the connection (close %s, or drop TCP)" % "/".join(map(str, self.codes))
            if self.fail_fast:
                text += " before the rest is sent (failing later is NON-STRICT)"
            return text
        n = 1 if callable(self._ok) else len(self._ok[0])
        if n == 0:
            return "send nothing back; answer our Close with %s" % "/".join(map(str, self.codes))
        return "send back %d message(s)/pong(s) as sent; answer our Close with %s" % (
            n, "/".join(map(str, self.codes)))


class Session:
    """What a case's run() uses to talk to the peer."""

    def __init__(self, conn, deadline):
        self.conn = conn
        self.deadline = deadline
        self.checkpoints = []  # per checkpoint: had the peer failed by then

    def frame(self, op, payload=b"", fin=True, rsv=0, mask="auto", length=None):
        """A frame, masked as our role requires."""
        if isinstance(payload, str):
            payload = payload.encode()
        return self.conn.frame(op, payload, fin, rsv, mask, length)

    def send(self, *parts, chop=None, sync=False):
        """Send frames (bytes). chop=n writes them in n-byte pieces with a
        short pause between (so the peer reads them separately); sync=True
        pauses after each part. Stops quietly once the peer is gone."""
        data = b"".join(parts)
        try:
            if sync:
                for part in parts:
                    self.conn.send(part, self.deadline)
                    self.wait(0.01)
            elif chop:
                pieces = (len(data) + chop - 1) // chop
                for i in range(0, len(data), chop):
                    self.conn.send(data[i:i + chop], self.deadline)
                    if pieces <= 2000:
                        self.wait(0.001)
            else:
                self.conn.send(data, self.deadline)
        except PeerClosed:
            pass

    def text(self, payload, **kw):
        """Send one text message in one frame."""
        self.send(self.frame(TEXT, payload), **kw)

    def close(self, code=None, reason=b"", raw_body=None):
        """Send our Close frame (raw_body: any bytes as its body)."""
        try:
            self.conn.send_close(code, reason, self.deadline, raw_body)
        except PeerClosed:
            pass

    def wait(self, seconds):
        """Handle what the peer sends for this long."""
        self.conn.pump(min(self.deadline, time.monotonic() + seconds))

    def wait_events(self, n, seconds=5):
        """Wait until the peer has sent n messages/pongs in all (or closed)."""
        c = self.conn
        c.pump(min(self.deadline, time.monotonic() + seconds),
               until=lambda: c.event_count >= n or c.peer_close is not None or c.eof)

    def checkpoint(self, seconds=1.0):
        """Give the peer up to `seconds` to fail the connection; record whether
        it did (fail-fast)."""
        c = self.conn
        c.pump(min(self.deadline, time.monotonic() + seconds),
               until=lambda: c.peer_close is not None or c.eof)
        self.checkpoints.append(c.peer_close is not None or c.eof)


def run_case(case, conn, idle=2.0, fail_wait=4.0):
    """Run case over conn (an open Conn) and return its result dict."""
    start = time.monotonic()
    deadline = start + case.timeout
    s = Session(conn, deadline)
    notes = []
    unimplemented = case.pmd is not None and conn.pmd_rx is None
    if unimplemented:
        notes.append("permessage-deflate not in force: %s" % getattr(
            conn, "pmd_note", "not negotiated"))
        try:
            conn.send_close(1000, b"", deadline)
        except (PeerClosed, TimeoutError):
            pass
    try:
        if not unimplemented:
            case.run(s)
    except PeerClosed:
        pass
    except TimeoutError:
        notes.append("timed out while sending")
    if case.closed_by == "me" and not conn.close_sent:
        want = max(len(a) for a in case.ok_lists() + case.nonstrict)
        # until every expected event came, the peer closed, or it went quiet
        done = lambda: conn.event_count >= want or conn.peer_close is not None or conn.eof
        # quiet for `idle` seconds since we finished sending or last heard
        # from the peer: it is not going to send the rest
        idle = max(idle, case.timeout / 5)
        sent_at = time.monotonic()
        while time.monotonic() < deadline and not done():
            if time.monotonic() - max(conn.last_rx, sent_at) > idle:
                break
            conn.pump(min(deadline, time.monotonic() + 0.2), until=done)
        if conn.peer_close is None and not conn.gone():
            try:
                conn.send_close(1000, b"", deadline)
            except (PeerClosed, TimeoutError):
                pass
    if case.closed_by == "peer":  # a peer that ignores the bad input: don't wait long
        deadline = min(deadline, time.monotonic() + fail_wait)
    conn.pump(deadline, until=lambda: conn.peer_close is not None or conn.eof)
    timed_out = conn.peer_close is None and not conn.eof
    if conn.role == "server":
        conn.shutdown()  # the server closes TCP first
    else:  # the client waits for the server to close TCP
        conn.pump(min(deadline, time.monotonic() + 2), until=lambda: conn.eof)
        if not conn.eof and conn.peer_close is not None and conn.close_sent:
            notes.append("server did not close TCP after the closing handshake")
        conn.shutdown()
    r = judge(case, conn, s, timed_out, notes, time.monotonic() - start)
    if unimplemented and r["verdict"] != FAILED:
        r["verdict"] = r["behavior"] = UNIMPLEMENTED
    if case.pmd is not None and conn.pmd_rx is not None:
        rx = conn.pmd_rx
        r["pmd"] = {"agreed": rx_header(conn), "compressed_echoes": rx.compressed,
                    "max_distance": rx.max_distance}
    return r


def rx_header(conn):
    """The permessage-deflate agreement of conn, as its header."""
    a = getattr(conn, "pmd_agreed", None)
    return a.header if a is not None else None


def judge(case, conn, s, timed_out, notes, elapsed):
    """The verdict of one case from what the peer did."""
    obs = conn.obs
    if case.pmd is not None and conn.pmd_rx is None:
        behavior = OK  # UNIMPLEMENTED (run_case): only the closing is judged
    elif obs in case.ok_lists():
        behavior = OK
    elif obs in case.nonstrict:
        behavior = NON_STRICT
    else:
        behavior = FAILED
        notes.append("unexpected events (see observed)")
    close = OK
    code = conn.peer_close[0] if conn.peer_close else None
    if timed_out:
        close = FAILED
        notes.append("no Close and no TCP end from the peer in time")
    elif case.closed_by == "me":
        if conn.peer_initiated:
            close = FAILED
            notes.append("the peer failed the connection but should not have")
        elif conn.peer_close is None:
            if case.require_clean:
                close = FAILED
                notes.append("the peer dropped TCP instead of answering our Close")
        elif code is not None and code not in case.codes:
            close = FAILED
            notes.append("peer answered with close code %s, expected %s" % (
                code, "/".join(map(str, case.codes))))
    else:
        if not conn.peer_initiated:
            close = FAILED
            notes.append("the peer did not fail the connection")
        elif code is not None and code not in case.codes:
            close = FAILED
            notes.append("peer failed with close code %s, expected %s" % (
                code, "/".join(map(str, case.codes))))
        elif case.fail_fast and s.checkpoints and not s.checkpoints[0]:
            close = NON_STRICT
            notes.append("failed only after the rest of the message was sent (not fail-fast)")
    if (behavior == OK and case.pmd is not None and case.pmd.get("compressible") and
            conn.pmd_rx is not None and conn.pmd_rx.compressed == 0):
        behavior = NON_STRICT
        notes.append("permessage-deflate was agreed but no echo came compressed")
    if conn.violations:
        close = FAILED
        notes.extend("protocol violation: " + v for v in conn.violations)
    verdict = max((behavior, close), key=lambda v: RANK[v])
    return {
        "id": case.id,
        "description": case.desc,
        "expected": case.expect,
        "verdict": verdict,
        "behavior": behavior,
        "behavior_close": close,
        "observed": [describe_obs(o) for o in obs[:20]] + (
            ["... %d more" % (len(obs) - 20)] if len(obs) > 20 else []),
        "remote_close_code": code if conn.peer_close else None,
        "remote_close_reason": conn.peer_close[1].decode("utf-8", "replace")
        if conn.peer_close else None,
        "closed_by_peer": conn.peer_initiated,
        "duration_ms": int(elapsed * 1000),
        "notes": notes,
    }


def describe_obs(o):
    """A short printable form of one observation."""
    if o[0] == "pong":
        return "pong %d bytes %r" % (len(o[1]), o[1][:16])
    return "%s %d bytes %r" % (o[1], len(o[2]), o[2][:16])


# ===========================================================================
# The cases

CASES = []


def case(cid, desc, run, **kw):
    """Add a case to the list."""
    CASES.append(Case(cid, desc, run, **kw))


def fail(**kw):
    """Keyword arguments of a case the peer must fail with 1002."""
    kw.setdefault("closed_by", "peer")
    kw.setdefault("codes", (1002,))
    kw.setdefault("require_clean", False)
    return kw


def sizes_text(n):
    """n bytes of ASCII text (Autobahn's pattern)."""
    pat = b"BAsd7&jh23"
    return (pat * (n // len(pat) + 1))[:n]


def sizes_binary(n):
    """n bytes of binary data."""
    return bytes(range(256)) * (n // 256) + bytes(range(n % 256))


# ---- 1 Framing -----------------------------------------------------------

def _section1():
    lengths = [0, 125, 126, 127, 128, 65535, 65536]
    for k, (op, name, gen, mk) in enumerate([(TEXT, "text", lambda n: b"*" * n, T),
                                             (BINARY, "binary", lambda n: b"\xfe" * n, B)]):
        for i, n in enumerate(lengths):
            payload = gen(n)
            case("1.%d.%d" % (k + 1, i + 1), "Send %s message with payload of length %d." % (name, n),
                 lambda s, op=op, p=payload: s.send(s.frame(op, p)), ok=[[mk(payload)]])
        payload = gen(65536)
        case("1.%d.8" % (k + 1),
             "Send %s message with payload of length 65536, written in chops of 997 octets." % name,
             lambda s, op=op, p=payload: s.send(s.frame(op, p), chop=997), ok=[[mk(payload)]])


# ---- 2 Pings and pongs ---------------------------------------------------

def _section2():
    case("2.1", "Send ping without payload.", lambda s: s.send(s.frame(PING)), ok=[[P()]])
    case("2.2", "Send ping with small text payload.",
         lambda s: s.send(s.frame(PING, "Hello, world!")), ok=[[P("Hello, world!")]])
    bin8 = b"\x00\xff\xfe\xfd\xfc\xfb\x00\xff"
    case("2.3", "Send ping with small binary (non UTF-8) payload.",
         lambda s: s.send(s.frame(PING, bin8)), ok=[[P(bin8)]])
    p125 = b"\xfe" * 125
    case("2.4", "Send ping with binary payload of 125 octets.",
         lambda s: s.send(s.frame(PING, p125)), ok=[[P(p125)]])
    case("2.5", "Send ping with binary payload of 126 octets (control frames are at most 125).",
         lambda s: s.send(s.frame(PING, b"\xfe" * 126)), **fail())
    case("2.6", "Send ping with binary payload of 125 octets, written in 1-octet chops.",
         lambda s: s.send(s.frame(PING, p125), chop=1), ok=[[P(p125)]])
    case("2.7", "Send unsolicited pong without payload. Peer must ignore it.",
         lambda s: s.send(s.frame(PONG)), ok=[[]])
    case("2.8", "Send unsolicited pong with payload. Peer must ignore it.",
         lambda s: s.send(s.frame(PONG, "unsolicited pong payload")), ok=[[]])
    case("2.9", "Send unsolicited pong with payload, then ping. Only the ping is answered.",
         lambda s: s.send(s.frame(PONG, "unsolicited pong payload"), s.frame(PING, "ping payload")),
         ok=[[P("ping payload")]])
    pings = [("payload-%d" % i).encode() for i in range(10)]
    every = [P(p) for p in pings]
    # RFC 6455 5.5.3: a peer may answer only the most recent of several pings
    partial = [every[i:] for i in range(1, 10)]
    case("2.10", "Send 10 pings in a row; each is answered (or at least the last).",
         lambda s: s.send(*[s.frame(PING, p) for p in pings]), ok=[every], nonstrict=partial)
    case("2.11", "Send 10 pings in a row, written in 1-octet chops.",
         lambda s: s.send(*[s.frame(PING, p) for p in pings], chop=1), ok=[every],
         nonstrict=partial)


# ---- 3 Reserved bits -----------------------------------------------------

def _section3():
    case("3.1", "Send small text message with RSV = 1.",
         lambda s: s.send(s.frame(TEXT, "Hello, world!", rsv=1)), **fail())
    hello = "Hello, world!"

    def seq(op, payload, rsv, sync):
        return lambda s: s.send(s.frame(TEXT, hello), s.frame(op, payload, rsv=rsv),
                                s.frame(PING, "ping"), sync=sync)
    case("3.2", "Send small text message, then again with RSV = 2, then ping.",
         seq(TEXT, hello, 2, False), ok=[[T(hello)]], nonstrict=[[]], **fail())
    case("3.3", "Send small text message, then again with RSV = 3, then ping, frame by frame.",
         seq(TEXT, hello, 3, True), ok=[[T(hello)]], nonstrict=[[]], **fail())
    case("3.4", "Send small text message, then again with RSV = 4, then ping, frame by frame.",
         seq(TEXT, hello, 4, True), ok=[[T(hello)]], nonstrict=[[]], **fail())
    case("3.5", "Send small binary message with RSV = 5.",
         lambda s: s.send(s.frame(BINARY, b"\x00\xff\xfe\xfd\xfc\xfb\x00\xff", rsv=5)), **fail())
    case("3.6", "Send ping with RSV = 6.",
         lambda s: s.send(s.frame(PING, "Hello, world!", rsv=6)), **fail())
    case("3.7", "Send close with RSV = 7.",
         lambda s: s.send(s.frame(CLOSE, b"\x03\xe8", rsv=7)), **fail())


# ---- 4 Opcodes -----------------------------------------------------------

def _section4():
    hello = "Hello, world!"
    for sub, ops in ((1, (3, 4, 5, 6, 7)), (2, (11, 12, 13, 14, 15))):
        kind = "non-control" if sub == 1 else "control"
        for i, op in enumerate(ops):
            cid = "4.%d.%d" % (sub, i + 1)
            if i == 0:
                case(cid, "Send frame with reserved %s opcode %d." % (kind, op),
                     lambda s, op=op: s.send(s.frame(op)), **fail())
            elif i == 1:
                case(cid, "Send frame with reserved %s opcode %d and non-empty payload." % (kind, op),
                     lambda s, op=op: s.send(s.frame(op, "reserved opcode payload")), **fail())
            else:
                payload = b"" if i == 2 else b"reserved opcode payload"
                case(cid, "Send small text message, then frame with reserved %s opcode %d%s, "
                     "then ping." % (kind, op, " and payload" if payload else ""),
                     lambda s, op=op, p=payload: s.send(s.frame(TEXT, hello), s.frame(op, p),
                                                        s.frame(PING, "ping")),
                     ok=[[T(hello)]], nonstrict=[[]], **fail())


# ---- 5 Fragmentation -----------------------------------------------------

def _section5():
    case("5.1", "Send ping fragmented into 2 fragments.",
         lambda s: s.send(s.frame(PING, "fragment1", fin=False), s.frame(CONT, "fragment2")),
         **fail())
    case("5.2", "Send pong fragmented into 2 fragments.",
         lambda s: s.send(s.frame(PONG, "fragment1", fin=False), s.frame(CONT, "fragment2")),
         **fail())
    two = lambda s, **kw: s.send(s.frame(TEXT, "fragment1", fin=False), s.frame(CONT, "fragment2"),
                                 **kw)
    case("5.3", "Send text message in 2 fragments.", two, ok=[[T("fragment1fragment2")]])
    case("5.4", "Send text message in 2 fragments, frame by frame.",
         lambda s: two(s, sync=True), ok=[[T("fragment1fragment2")]])
    case("5.5", "Send text message in 2 fragments, written in 1-octet chops.",
         lambda s: two(s, chop=1), ok=[[T("fragment1fragment2")]])
    pingmid = lambda s, **kw: s.send(s.frame(TEXT, "fragment1", fin=False),
                                     s.frame(PING, "pongme!"), s.frame(CONT, "fragment2"), **kw)
    exp = [[P("pongme!"), T("fragment1fragment2")]]
    case("5.6", "Send text message in 2 fragments with a ping between them.", pingmid, ok=exp)
    case("5.7", "Send text message in 2 fragments with a ping between them, frame by frame.",
         lambda s: pingmid(s, sync=True), ok=exp)
    case("5.8", "Send text message in 2 fragments with a ping between them, in 1-octet chops.",
         lambda s: pingmid(s, chop=1), ok=exp)
    for base, fin in ((9, True), (12, False)):
        for j, kw in enumerate(({}, {"sync": True}, {"chop": 1})):
            how = ["", ", frame by frame", ", in 1-octet chops"][j]
            case("5.%d" % (base + j),
                 "Send continuation frame with FIN = %s where there is nothing to continue, "
                 "then text message%s." % ("true" if fin else "false", how),
                 lambda s, fin=fin, kw=kw: s.send(s.frame(CONT, "non-continuation payload", fin=fin),
                                                  s.frame(TEXT, "Hello, world!"), **kw),
                 **fail())
    case("5.15", "Send text message in 2 fragments, then continuation with FIN = false where there "
         "is nothing to continue, then text message.",
         lambda s: s.send(s.frame(TEXT, "fragment1", fin=False), s.frame(CONT, "fragment2"),
                          s.frame(CONT, "fragment3", fin=False), s.frame(TEXT, "fragment4")),
         ok=[[T("fragment1fragment2")]], nonstrict=[[]], **fail())
    for cid, fin in (("5.16", False), ("5.17", True)):
        case(cid, "Repeated 2x: continuation (FIN = %s) with nothing to continue, text fragment, "
             "continuation with FIN = true." % ("false" if not fin else "true"),
             lambda s, fin=fin: s.send(*([s.frame(CONT, "fragment1", fin=fin),
                                          s.frame(TEXT, "fragment2", fin=False),
                                          s.frame(CONT, "fragment3")] * 2)),
             **fail())
    case("5.18", "Send text message in 2 fragments, both with opcode text (a second start).",
         lambda s: s.send(s.frame(TEXT, "fragment1", fin=False), s.frame(TEXT, "fragment2")),
         **fail())

    def five(s, sync):
        for i in range(5):
            op = TEXT if i == 0 else CONT
            s.send(s.frame(op, "fragment%d" % (i + 1), fin=i == 4), sync=sync)
            if i < 4:
                s.send(s.frame(PING, "pongme %d!" % (i + 1)), sync=sync)
                s.wait(0.05)
    exp5 = [[P("pongme %d!" % i) for i in range(1, 5)] +
            [T("".join("fragment%d" % i for i in range(1, 6)))]]
    case("5.19", "Send text message in 5 fragments, with a ping after each of the first 4 and "
         "pauses between.", lambda s: five(s, False), ok=exp5)
    case("5.20", "As 5.19, frame by frame.", lambda s: five(s, True), ok=exp5)
    # beyond Autobahn: empty fragments and binary
    case("5.21", "Send binary message in 3 fragments, the first and last empty.",
         lambda s: s.send(s.frame(BINARY, b"", fin=False), s.frame(CONT, b"\x00\x01\x02", fin=False),
                          s.frame(CONT, b"")), ok=[[B(b"\x00\x01\x02")]])
    case("5.22", "Send binary fragment, then a text frame before the binary message ends.",
         lambda s: s.send(s.frame(BINARY, b"\x01", fin=False), s.frame(TEXT, "x")), **fail())


# ---- 6 UTF-8 -------------------------------------------------------------

KOSME = b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5"

# Markus Kuhn's UTF-8 decoder capability and stress test, as Autobahn uses it:
# (section title, [(valid, bytes), ...]) for 6.5 ... 6.23
KUHN = [
    ("Some valid UTF-8 sequences", [(True, KOSME)]),
    ("Valid and invalid prefixes of the κόσμε sequence",
     [(KOSME[:i].decode("utf-8", "ignore").encode() == KOSME[:i], KOSME[:i])
      for i in range(1, len(KOSME) + 1)]),
    ("First possible sequence of a certain length",
     [(True, b"\x00"), (True, b"\xc2\x80"), (True, b"\xe0\xa0\x80"), (True, b"\xf0\x90\x80\x80")]),
    ("First possible sequence length 5/6 (invalid codepoints)",
     [(False, b"\xf8\x88\x80\x80\x80"), (False, b"\xfc\x84\x80\x80\x80\x80")]),
    ("Last possible sequence of a certain length",
     [(True, b"\x7f"), (True, b"\xdf\xbf"), (True, b"\xef\xbf\xbf"), (True, b"\xf4\x8f\xbf\xbf")]),
    ("Last possible sequence length 4/5/6 (invalid codepoints)",
     [(False, b"\xf7\xbf\xbf\xbf"), (False, b"\xfb\xbf\xbf\xbf\xbf"),
      (False, b"\xfd\xbf\xbf\xbf\xbf\xbf")]),
    ("Other boundary conditions",
     [(True, b"\xed\x9f\xbf"), (True, b"\xee\x80\x80"), (True, b"\xef\xbf\xbd"),
      (True, b"\xf4\x8f\xbf\xbf"), (False, b"\xf4\x90\x80\x80")]),
    ("Unexpected continuation bytes",
     [(False, b"\x80"), (False, b"\xbf"), (False, b"\x80\xbf"), (False, b"\x80\xbf\x80"),
      (False, b"\x80\xbf\x80\xbf"), (False, b"\x80\xbf\x80\xbf\x80"),
      (False, b"\x80\xbf\x80\xbf\x80\xbf"), (False, bytes(range(0x80, 0xc0)))]),
    ("Lonely start characters",
     [(False, b"".join(bytes([c]) + b" " for c in range(0xc0, 0xe0))),
      (False, b"".join(bytes([c]) + b" " for c in range(0xe0, 0xf0))),
      (False, b"".join(bytes([c]) + b" " for c in range(0xf0, 0xf8))),
      (False, b"".join(bytes([c]) + b" " for c in range(0xf8, 0xfc))),
      (False, b"".join(bytes([c]) + b" " for c in range(0xfc, 0xfe)))]),
    ("Sequences with last continuation byte missing",
     [(False, b) for b in (b"\xc0", b"\xe0\x80", b"\xf0\x80\x80", b"\xf8\x80\x80\x80",
                           b"\xfc\x80\x80\x80\x80", b"\xdf", b"\xef\xbf", b"\xf7\xbf\xbf",
                           b"\xfb\xbf\xbf\xbf", b"\xfd\xbf\xbf\xbf\xbf")]),
    ("Concatenation of incomplete sequences",
     [(False, b"\xc0\xe0\x80\xf0\x80\x80\xf8\x80\x80\x80\xfc\x80\x80\x80\x80"
              b"\xdf\xef\xbf\xf7\xbf\xbf\xfb\xbf\xbf\xbf\xfd\xbf\xbf\xbf\xbf")]),
    ("Impossible bytes", [(False, b"\xfe"), (False, b"\xff"), (False, b"\xfe\xfe\xff\xff")]),
    ("Overlong ASCII character '/'",
     [(False, b) for b in (b"\xc0\xaf", b"\xe0\x80\xaf", b"\xf0\x80\x80\xaf",
                           b"\xf8\x80\x80\x80\xaf", b"\xfc\x80\x80\x80\x80\xaf")]),
    ("Maximum overlong sequences",
     [(False, b) for b in (b"\xc1\xbf", b"\xe0\x9f\xbf", b"\xf0\x8f\xbf\xbf",
                           b"\xf8\x87\xbf\xbf\xbf", b"\xfc\x83\xbf\xbf\xbf\xbf")]),
    ("Overlong representation of NUL",
     [(False, b) for b in (b"\xc0\x80", b"\xe0\x80\x80", b"\xf0\x80\x80\x80",
                           b"\xf8\x80\x80\x80\x80", b"\xfc\x80\x80\x80\x80\x80")]),
    ("Single UTF-16 surrogates",
     [(False, b) for b in (b"\xed\xa0\x80", b"\xed\xad\xbf", b"\xed\xae\x80", b"\xed\xaf\xbf",
                           b"\xed\xb0\x80", b"\xed\xbe\x80", b"\xed\xbf\xbf")]),
    ("Paired UTF-16 surrogates",
     [(False, a + b) for a, b in ((b"\xed\xa0\x80", b"\xed\xb0\x80"),
                                  (b"\xed\xa0\x80", b"\xed\xbf\xbf"),
                                  (b"\xed\xad\xbf", b"\xed\xb0\x80"),
                                  (b"\xed\xad\xbf", b"\xed\xbf\xbf"),
                                  (b"\xed\xae\x80", b"\xed\xb0\x80"),
                                  (b"\xed\xae\x80", b"\xed\xbf\xbf"),
                                  (b"\xed\xaf\xbf", b"\xed\xb0\x80"),
                                  (b"\xed\xaf\xbf", b"\xed\xbf\xbf"))]),
    ("Noncharacter code positions (valid UTF-8)",
     [(True, b"\xef\xbf\xbe"), (True, b"\xef\xbf\xbf")] +
     [(True, chr(plane * 0x10000 + low).encode()) for plane in range(1, 17)
      for low in (0xFFFE, 0xFFFF)]),
    ("Unicode specials (valid UTF-8)",
     [(True, chr(c).encode()) for c in (0xFFF9, 0xFFFA, 0xFFFB, 0xFFFC, 0xFFFD, 0xFEFF)]),
]


def _section6():
    def frames(s, pieces, op=TEXT):
        """One message, one frame per piece."""
        out = []
        for i, p in enumerate(pieces):
            out.append(s.frame(op if i == 0 else CONT, p, fin=i == len(pieces) - 1))
        return out

    def octets(b):
        return [b[i:i + 1] for i in range(len(b))] or [b""]

    def codepoints(b):
        return [c.encode() for c in b.decode("utf-8")] or [b""]

    fail7 = dict(closed_by="peer", codes=(1007,), require_clean=False)
    case("6.1.1", "Send text message of length 0.", lambda s: s.text(b""), ok=[[T(b"")]])
    case("6.1.2", "Send fragmented text message, 3 fragments each of length 0.",
         lambda s: s.send(*frames(s, [b"", b"", b""])), ok=[[T(b"")]])
    case("6.1.3", "Send fragmented text message, 3 fragments, first and last of length 0.",
         lambda s: s.send(*frames(s, [b"", b"middle frame payload", b""])),
         ok=[[T(b"middle frame payload")]])
    hello = "Hello-µ@ßöäüàá-UTF-8!!".encode()
    cut = len("Hello-µ@ßöä".encode())
    case("6.2.1", "Send a valid UTF-8 text message in one fragment.", lambda s: s.text(hello),
         ok=[[T(hello)]])
    case("6.2.2", "Send a valid UTF-8 text message in two fragments, split on a codepoint boundary.",
         lambda s: s.send(*frames(s, [hello[:cut], hello[cut:]])), ok=[[T(hello)]])
    case("6.2.3", "Send a valid UTF-8 text message in 1-octet fragments (split inside codepoints).",
         lambda s: s.send(*frames(s, octets(hello))), ok=[[T(hello)]])
    case("6.2.4", "Send the valid text message κόσμε in 1-octet fragments.",
         lambda s: s.send(*frames(s, octets(KOSME))), ok=[[T(KOSME)]])
    bad = KOSME + b"\xed\xa0\x80" + b"edited"
    case("6.3.1", "Send an invalid UTF-8 text message (a surrogate) in one fragment.",
         lambda s: s.text(bad), **fail7)
    case("6.3.2", "Send an invalid UTF-8 text message in 1-octet fragments.",
         lambda s: s.send(*frames(s, octets(bad))), **fail7)

    # 6.4: fail fast - the peer should fail as soon as the bytes cannot be UTF-8
    def staged_frames(parts):
        def run(s):
            s.send(s.frame(TEXT, parts[0], fin=False), s.frame(CONT, parts[1], fin=False))
            s.checkpoint()
            s.send(s.frame(CONT, parts[2]))
        return run

    def staged_chops(parts):
        def run(s):
            whole = s.frame(TEXT, b"".join(parts))
            head = len(whole) - len(b"".join(parts))
            a = head + len(parts[0])
            b = a + len(parts[1])
            s.send(whole[:a])
            s.wait(0.05)
            s.send(whole[a:b])
            s.checkpoint()
            s.send(whole[b:])
        return run
    ff = dict(fail_fast=True, **fail7)
    p1 = [KOSME, b"\xf4\x90\x80\x80", b"edited"]
    p2 = [KOSME + b"\xf4", b"\x90", b"\x80\x80edited"]
    case("6.4.1", "Send 3 fragments: valid, invalid (> U+10FFFF), pause, valid. Fail fast.",
         staged_frames(p1), **ff)
    case("6.4.2", "Send 3 fragments: valid ending in a lead byte, a continuation that makes it "
         "invalid, pause, rest. Fail fast.", staged_frames(p2), **ff)
    case("6.4.3", "Send one text frame in 3 TCP writes: valid, invalid (> U+10FFFF), pause, rest. "
         "Fail fast.", staged_chops(p1), **ff)
    case("6.4.4", "Send one text frame in 3 TCP writes: valid ending in a lead byte, the "
         "continuation that makes it invalid, pause, rest. Fail fast.", staged_chops(p2), **ff)

    valid_all = []
    invalid_all = []
    for sec, (title, seqs) in enumerate(KUHN):
        for i, (valid, b) in enumerate(seqs):
            cid = "6.%d.%d" % (sec + 5, i + 1)
            desc = "%s: send %s text message %s in one frame." % (
                title, "valid" if valid else "invalid", b[:24].hex() + ("..." if len(b) > 24 else ""))
            if valid:
                case(cid, desc, lambda s, b=b: s.text(b), ok=[[T(b)]])
                valid_all.append(b)
            else:
                case(cid, desc, lambda s, b=b: s.text(b), **fail7)
                invalid_all.append((cid, b))
    joined = b"".join(valid_all)
    n = len(KUHN) + 5
    case("6.%d.1" % n, "Every valid sequence above in one message, one frame per codepoint.",
         lambda s: s.send(*frames(s, codepoints(joined))), ok=[[T(joined)]])
    case("6.%d.2" % n, "Every valid sequence above in one message, one frame per octet "
         "(split inside codepoints).", lambda s: s.send(*frames(s, octets(joined))),
         ok=[[T(joined)]])
    for i, (cid, b) in enumerate(invalid_all):
        case("6.%d.%d" % (n + 1, i + 1), "Invalid sequence of case %s (%s) in 1-octet fragments."
             % (cid, b[:16].hex()), lambda s, b=b: s.send(*frames(s, octets(b))), **fail7)


# ---- 7 Close handling ----------------------------------------------------

def _section7():
    hello = "Hello World!"
    case("7.1.1", "Send a message, then a close.",
         lambda s: (s.text(hello), s.wait_events(1), s.close(1000)), ok=[[T(hello)]])
    case("7.1.2", "Send two close frames.", lambda s: (s.close(1000), s.send(s.frame(CLOSE, b"\x03\xe8"))))
    case("7.1.3", "Send a ping after the close: no pong may come back.",
         lambda s: (s.close(1000), s.send(s.frame(PING, "Hello World!"))))
    case("7.1.4", "Send a text message after the close: no echo may come back.",
         lambda s: (s.close(1000), s.text(hello)))
    case("7.1.5", "Send a message fragment, then close, then the last fragment.",
         lambda s: (s.send(s.frame(TEXT, "fragment1", fin=False)), s.close(1000),
                    s.send(s.frame(CONT, "fragment2"))))
    big = sizes_text(256 * 1024)
    case("7.1.6", "Send a 256 KiB text message, then a close at once.",
         lambda s: (s.text(big), s.close(1000)), ok=[[T(big)]], nonstrict=[[]])
    case("7.3.1", "Send a close with an empty payload.", lambda s: s.close(None),
         codes=(1000,))
    case("7.3.2", "Send a close with a 1-octet payload.", lambda s: s.close(raw_body=b"\x03"),
         codes=(1002,), require_clean=False)
    case("7.3.3", "Send a close with code 1000 and no reason.", lambda s: s.close(1000))
    case("7.3.4", "Send a close with code 1000 and a reason.", lambda s: s.close(1000, b"Ok"))
    case("7.3.5", "Send a close with code 1000 and a 123-octet reason.",
         lambda s: s.close(1000, b"*" * 123))
    case("7.3.6", "Send a close with code 1000 and a 124-octet reason (payload over 125).",
         lambda s: s.close(1000, b"*" * 124), codes=(1002,), require_clean=False)
    case("7.5.1", "Send a close with code 1000 and a reason that is not UTF-8.",
         lambda s: s.close(1000, b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80edited"),
         codes=(1007,), require_clean=False)
    valid = [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014,
             3000, 3999, 4000, 4999]
    for i, code in enumerate(valid):
        case("7.7.%d" % (i + 1), "Send a close with valid code %d." % code,
             lambda s, code=code: s.close(code), codes=(1000, code))
    invalid = [0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535]
    for i, code in enumerate(invalid):
        case("7.9.%d" % (i + 1), "Send a close with invalid code %d." % code,
             lambda s, code=code: s.close(code), codes=(1002,), require_clean=False)


# ---- 9 Limits and performance (bounded) ---------------------------------

SIZES = [64 * 1024, 256 * 1024, 1 << 20, 4 << 20, 16 << 20]


def _size_name(n):
    return "%d KiB" % (n >> 10) if n < (1 << 20) else "%d MiB" % (n >> 20)


def _timeout(n):
    return 10.0 if n < (4 << 20) else 30.0


def _section9():
    for sub, (op, name, gen, mk) in enumerate([(TEXT, "text", sizes_text, T),
                                               (BINARY, "binary", sizes_binary, B)]):
        for i, n in enumerate(SIZES):
            case("9.%d.%d" % (sub + 1, i + 1), "Send a %s message of %s in one frame." % (
                name, _size_name(n)), lambda s, op=op, n=n, gen=gen: s.send(s.frame(op, gen(n))),
                ok=lambda mk=mk, gen=gen, n=n: [[mk(gen(n))]], timeout=_timeout(n))
    frag = 4096
    for sub, (op, name, gen, mk) in enumerate([(TEXT, "text", sizes_text, T),
                                               (BINARY, "binary", sizes_binary, B)]):
        for i, n in enumerate(SIZES):
            fs = frag if n <= (1 << 20) else 65536

            def run(s, op=op, n=n, gen=gen, fs=fs):
                data = gen(n)
                s.send(*[s.frame(op if k == 0 else CONT, data[k:k + fs], fin=k + fs >= n)
                         for k in range(0, n, fs)])
            case("9.%d.%d" % (sub + 3, i + 1), "Send a %s message of %s in fragments of %d octets."
                 % (name, _size_name(n), fs), run, ok=lambda mk=mk, gen=gen, n=n: [[mk(gen(n))]],
                 timeout=_timeout(n))
    chops = [64, 256, 1024, 4096, 16384, 65536]
    for sub, (op, name, gen, mk) in enumerate([(TEXT, "text", sizes_text, T),
                                               (BINARY, "binary", sizes_binary, B)]):
        for i, c in enumerate(chops):
            case("9.%d.%d" % (sub + 5, i + 1), "Send a 1 MiB %s message in one frame, written in "
                 "chops of %d octets." % (name, c),
                 lambda s, op=op, c=c, gen=gen: s.send(s.frame(op, gen(1 << 20)), chop=c),
                 ok=lambda mk=mk, gen=gen: [[mk(gen(1 << 20))]], timeout=20.0)
    lens = [0, 16, 64, 256, 1024, 4096]
    for sub, (op, name, gen, mk) in enumerate([(TEXT, "text", sizes_text, T),
                                               (BINARY, "binary", sizes_binary, B)]):
        for i, n in enumerate(lens):
            case("9.%d.%d" % (sub + 7, i + 1), "Send 1000 %s messages of %d octets in one go." % (
                name, n), lambda s, op=op, n=n, gen=gen: s.send(*[s.frame(op, gen(n))] * 1000),
                ok=[[mk(gen(n))] * 1000], timeout=20.0)


# ---- 10 Auto-fragmentation ----------------------------------------------

def _section10():
    data = sizes_text(65536)

    def run(s):
        s.send(*[s.frame(TEXT if k == 0 else CONT, data[k:k + 1300], fin=k + 1300 >= len(data))
                 for k in range(0, len(data), 1300)])
    case("10.1.1", "Send a 64 KiB text message auto-fragmented into frames of 1300 octets.", run,
         ok=[[T(data)]])


for _f in (_section1, _section2, _section3, _section4, _section5, _section6, _section7,
           _section9, _section10):
    _f()

import pmdcases  # noqa: E402  (sections 12 and 13; uses case() above)

pmdcases.add_cases(case, T, B)

BY_ID = {c.id: c for c in CASES}


def select(patterns):
    """The cases whose id matches one of the comma-separated patterns
    ("1.*", "6.4.1", "9.*"), in list order. None or "" selects sections 1-10
    (every case that needs no extension), "all" every case."""
    if not patterns:
        return [c for c in CASES if c.pmd is None]
    if patterns.strip() == "all":
        return list(CASES)
    pats = [p.strip() for p in patterns.split(",") if p.strip()]

    def match(cid):
        for p in pats:
            if p.endswith("*"):
                pre = p[:-1]
                if cid.startswith(pre) or (pre.endswith(".") and cid == pre[:-1]):
                    return True
            elif cid == p:
                return True
        return False
    return [c for c in CASES if match(c.id)]

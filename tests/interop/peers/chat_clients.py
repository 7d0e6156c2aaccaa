#!/usr/bin/env python3
"""chat_clients - clients speaking the chat protocol of `wsc chat`, for tests.

Test modes start the server themselves (`--wsc build/wsc`: `wsc chat --listen
127.0.0.1:0`), print `PORT <n>` once it listens (what tests/interop/spawn.c
waits for), run one scenario against it and print `RESULT ok ...` or
`RESULT fail <why>`, then stop the server by PID (SIGTERM) and exit 0 or 1:

  malformed   invalid JSON, non-objects, a non-string type, a binary message:
              an error each, to that client only, and the connection stays up
  unknown     an unknown "type": an error, and the connection stays up
  oversize    a message of exactly --max-message bytes passes; one byte more
              closes that client with 1009; the others chat on
  rename      three clients ask for the same name: alice, alice2, alice3
  html        tags are stripped from messages; '<' that opens no tag stays
  endpoints   subprotocol "json" is chosen; no subprotocol, "/" and "/chat"
              work; another path is refused; the page is served at /
  fanout      --clients N each send --messages M numbered messages; every
              client must receive all N*M, in order per sender
  shutdown    SIGTERM: every client gets close 1001 and the server exits 0

`--mode say --url ws://HOST:PORT/chat --name NAME` is a terminal client for
an already running server: prints `JOINED <name>`, sends each line of stdin
as a message, prints `MSG <name>: <text>` for each message received.

Every wait is bounded (--timeout, default 50 s for the whole scenario); the
script also stops on SIGTERM/SIGINT and when its stdin reaches EOF (peerlib).
"""
import argparse
import asyncio
import json
import os
import re
import signal
import sys
import time
import urllib.request

import websockets

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from peerlib import say, stop_event  # noqa: E402

STEP = 10.0  # seconds to wait for any one expected message


class Fail(Exception):
    """The server did not behave as the protocol says."""


class Client:
    """One chat connection: its id, its name, and every message received,
    read by a background task so that nothing is left unread."""

    def __init__(self, ws):
        self.ws = ws
        self.id = None
        self.name = None
        self.queue = asyncio.Queue()
        self.reader = asyncio.ensure_future(self._read())

    async def _read(self):
        try:
            async for data in self.ws:
                self.queue.put_nowait(data)
        except websockets.ConnectionClosed:
            pass
        self.queue.put_nowait(None)  # end of stream

    async def next(self, timeout=STEP):
        """The next message, parsed; None once the connection is closed."""
        data = await asyncio.wait_for(self.queue.get(), timeout)
        if data is None:
            self.queue.put_nowait(None)
            return None
        if not isinstance(data, str):
            raise Fail(f"binary message from the server: {data[:40]!r}")
        try:
            return json.loads(data)
        except ValueError:
            raise Fail(f"server sent invalid JSON: {data[:80]!r}")

    async def expect(self, mtype, timeout=STEP, skip=("userlist",)):
        """The next message of type mtype, skipping those in skip; Fail on
        any other message or on close."""
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise Fail(f"{self.name or self.id}: no {mtype!r} message in {timeout} s")
            try:
                m = await self.next(left)
            except asyncio.TimeoutError:
                raise Fail(f"{self.name or self.id}: no {mtype!r} message in {timeout} s")
            if m is None:
                raise Fail(f"{self.name or self.id}: closed ({self.close_code()}) "
                           f"while waiting for {mtype!r}")
            if m.get("type") == mtype:
                return m
            if m.get("type") not in skip:
                raise Fail(f"{self.name or self.id}: expected {mtype!r}, got {m}")

    async def send(self, obj):
        await self.ws.send(json.dumps(obj))

    async def login(self, name):
        """Sends a username; returns the name the server settled on."""
        await self.send({"type": "username", "name": name, "id": self.id,
                         "date": int(time.time() * 1000)})
        final = name
        while True:
            m = await self._next_of(("userlist", "rejectusername"))
            if m["type"] == "rejectusername":
                final = m["name"]
                continue
            if final in m.get("users", []):
                self.name = final
                return final

    async def _next_of(self, types):
        m = await self.next()
        if m is None:
            raise Fail(f"{self.id}: closed ({self.close_code()}) while logging in")
        if m.get("type") not in types:
            raise Fail(f"{self.id}: expected one of {types}, got {m}")
        return m

    async def say(self, text):
        await self.send({"type": "message", "text": text, "id": self.id,
                         "date": int(time.time() * 1000)})

    def close_code(self):
        rcvd = getattr(self.ws, "close_rcvd", None)
        if rcvd is not None:
            return rcvd.code
        return getattr(self.ws, "close_code", None)

    async def close(self):
        await self.ws.close()
        self.reader.cancel()


async def connect(url, subprotocols=("json",), max_size=1 << 24):
    """A Client whose id message has arrived."""
    ws = await asyncio.wait_for(
        websockets.connect(url, subprotocols=list(subprotocols) or None,
                           max_size=max_size, max_queue=None, ping_interval=None,
                           open_timeout=STEP, close_timeout=STEP), STEP)
    c = Client(ws)
    m = await c.expect("id")
    if not isinstance(m.get("id"), int):
        raise Fail(f"id message without an integer id: {m}")
    c.id = m["id"]
    return c


async def joined(url, name):
    c = await connect(url)
    await c.login(name)
    return c


def check(cond, why):
    if not cond:
        raise Fail(why)


# ---- scenarios ---------------------------------------------------------------

async def mode_malformed(url, args):
    a = await joined(url, "alice")
    b = await joined(url, "bob")
    for bad in ["{not json", "", "[1, 2]", "\"a string\"", "42", "{\"type\": 5}",
                "{\"name\": \"x\"}", "{\"type\":\"message\",\"text\":7}",
                "{\"type\":\"username\",\"name\":[]}", "{\"type\":\"message\"}",
                "{\"type\":\"message\",\"text\":\"\\u0000\"}", "{" * 5000]:
        await a.ws.send(bad)
        e = await a.expect("error")
        check(isinstance(e.get("message"), str) and e["message"], f"error without text: {e}")
    await a.ws.send(b"\x00\x01binary")
    await a.expect("error")
    # Still up, and the errors went to alice only: bob's next message is alice's.
    await a.say("still here")
    m = await a.expect("message")
    check(m["text"] == "still here" and m["name"] == "alice", f"bad echo {m}")
    m = await b.expect("message")
    check(m["text"] == "still here", f"bob got {m} instead of alice's message")
    return "12 malformed texts and 1 binary message: one error each, connection up"


async def mode_unknown(url, args):
    a = await joined(url, "alice")
    b = await joined(url, "bob")
    for t in ["bogus", "USERNAME", "", "message ", "x" * 1000]:
        await a.send({"type": t, "text": "hi"})
        e = await a.expect("error")
        check("type" in e.get("message", ""), f"error does not name the type: {e}")
    await a.say("after unknown types")
    m = await b.expect("message")
    check(m["text"] == "after unknown types", f"bob got {m}")
    await a.expect("message")
    return "5 unknown types: one error each to the sender only, connection up"


def message_of_size(n, client):
    """A chat message whose JSON text is exactly n bytes."""
    base = {"type": "message", "text": "", "id": client.id, "date": 1}
    fixed = len(json.dumps(base))
    return json.dumps(dict(base, text="x" * (n - fixed)))


async def mode_oversize(url, args):
    limit = args.max_message
    a = await joined(url, "big")
    b = await joined(url, "small")
    exact = message_of_size(limit, a)
    check(len(exact.encode()) == limit, "test bug: size")
    await a.ws.send(exact)
    m = await b.expect("message")
    check(m["text"] == json.loads(exact)["text"] and m["name"] == "big",
          "message of exactly the limit not delivered intact")
    await a.expect("message")
    await a.ws.send(message_of_size(limit + 1, a))
    while True:  # the server closes big with 1009
        m = await a.next()
        if m is None:
            break
        check(m.get("type") != "message", f"oversize message was delivered: {str(m)[:80]}")
    check(a.close_code() == 1009, f"close code {a.close_code()}, expected 1009")
    m = await b.expect("userlist")  # big left
    check(m["users"] == ["small"], f"user list after big left: {m['users']}")
    await b.say("still chatting")
    m = await b.expect("message")
    check(m["text"] == "still chatting", f"got {m}")
    return f"{limit} bytes delivered; {limit + 1} bytes closed with 1009; others unaffected"


async def mode_rename(url, args):
    a = await joined(url, "alice")
    b = await joined(url, "alice")
    c = await joined(url, "alice")
    check((a.name, b.name, c.name) == ("alice", "alice2", "alice3"),
          f"names {a.name}, {b.name}, {c.name}")
    m = await a.expect("userlist")  # alice2 joined, then alice3
    m = await a.expect("userlist")
    check(m["users"] == ["alice", "alice2", "alice3"], f"user list {m['users']}")
    # Asking for one's own name again changes nothing; a free one is taken.
    await b.send({"type": "username", "name": "bob"})
    m = await c.expect("userlist")
    check(m["users"] == ["alice", "bob", "alice3"], f"after rename: {m['users']}")
    await b.say("hi")
    m = await a.expect("message")
    check(m["name"] == "bob" and m["id"] == b.id, f"message stamped {m}")
    await c.close()
    m = await a.expect("userlist")
    check(m["users"] == ["alice", "bob"], f"after leave: {m['users']}")
    return "alice, alice2, alice3; rename to bob; leave updates the list"


async def mode_html(url, args):
    a = await joined(url, "alice")
    b = await joined(url, "<b>bob</b>")
    check(b.name == "bob", f"tags not stripped from a name: {b.name!r}")
    cases = [("<b>bold</b> <img src=x onerror=alert(1)>text", "bold text"),
             ("<script>alert(1)</script>", "alert(1)"),
             ("<<b>img src=x onerror=alert(1)>ok", "ok"),
             ("1 < 2 and 3 > 2", "1 < 2 and 3 > 2"),
             ("a <3 b", "a <3 b"),
             ("&lt;b&gt; stays", "&lt;b&gt; stays")]
    for text, want in cases:
        await a.say(text)
        m = await b.expect("message")
        check(m["text"] == want, f"{text!r} became {m['text']!r}, expected {want!r}")
    await a.say("<i></i>")
    await a.expect("error", skip=("userlist", "message"))  # after its own echoes
    await b.say("after")
    m = await b.expect("message")
    check(m["text"] == "after", f"the all-tag message reached bob: {m}")
    return f"{len(cases)} messages stripped as expected; an all-tag message is refused"


async def mode_endpoints(url, args):
    a = await connect(url)
    check(a.ws.subprotocol == "json", f"subprotocol {a.ws.subprotocol!r}")
    b = await connect(url, subprotocols=())
    check(b.ws.subprotocol is None, f"subprotocol {b.ws.subprotocol!r} without an offer")
    root = url.rsplit("/", 1)[0] + "/"
    c = await connect(root)
    check(c.id not in (a.id, b.id), "ids not unique")
    try:
        await connect(root + "nope")
        raise Fail("upgrade at /nope was accepted")
    except websockets.InvalidStatusCode as e:
        check(e.status_code == 404, f"/nope: status {e.status_code}")
    http = "http" + root[2:]
    body = await asyncio.get_running_loop().run_in_executor(
        None, lambda: urllib.request.urlopen(http, timeout=STEP).read().decode())
    for elem in ("name", "login", "text", "send", "chatbox", "userlistbox"):
        check(f'id="{elem}"' in body, f"page at / lacks #{elem}")
    return "json chosen; no offer, / and /chat accepted; /nope 404; page served"


async def mode_fanout(url, args):
    n, per = args.clients, args.messages
    clients = []
    for start in range(0, n, 50):  # connect in batches, within the backlog
        clients += await asyncio.gather(*(joined(url, f"u{i}") for i in range(start, min(n, start + 50))))
    names = [c.name for c in clients]
    check(len(set(names)) == n, "names not unique")
    # Consume messages from now on without the Client queue: counting only.
    expected_total = n * per
    # Raw matching instead of json.loads: 2,000,000 deliveries make the
    # Python side the bottleneck. The server writes compact JSON.
    text_re = re.compile(r'"text":"(u\d+) (\d+)"')
    name_re = re.compile(r'"name":"(u\d+)"')

    async def drain(c, done):
        next_seq = {}
        got = 0
        while got < expected_total:
            data = await c.queue.get()
            if data is None:
                raise Fail(f"{c.name}: closed ({c.close_code()}) after {got} messages")
            if '"type":"message"' not in data:
                continue
            mt, mn = text_re.search(data), name_re.search(data)
            if not mt or not mn or mt.group(1) != mn.group(1):
                raise Fail(f"{c.name}: unexpected message {data[:200]}")
            sender, k = mn.group(1), int(mt.group(2))
            if k != next_seq.get(sender, 0):
                raise Fail(f"{c.name}: from {sender} got #{k}, expected #{next_seq.get(sender, 0)}")
            next_seq[sender] = k + 1
            got += 1
        done.append(c.name)

    async def talk(c):
        for k in range(per):
            await c.say(f"{c.name} {k}")

    done = []
    t0 = time.monotonic()
    await asyncio.gather(*(talk(c) for c in clients), *(drain(c, done) for c in clients))
    elapsed = time.monotonic() - t0
    check(len(done) == n, "not every client finished")
    return (f"{n} clients x {per} messages: each received all {expected_total} in order "
            f"per sender ({n * expected_total} deliveries in {elapsed:.1f} s)")


async def mode_shutdown(url, args, server):
    clients = [await joined(url, f"s{i}") for i in range(3)]
    server.send_signal(signal.SIGTERM)
    for c in clients:
        while (await c.next()) is not None:
            pass
        check(c.close_code() == 1001, f"{c.name}: close code {c.close_code()}, expected 1001")
    rc = await asyncio.wait_for(server.wait(), STEP)
    check(rc == 0, f"server exited with {rc}")
    return "SIGTERM: 3 clients closed with 1001, server exited 0"


async def mode_say(url, args):
    c = await joined(url, args.name)
    say(f"JOINED {c.name}")
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)

    async def printer():
        while True:
            m = await c.next(timeout=None)
            if m is None:
                say(f"CLOSED {c.close_code()}")
                return
            if m.get("type") == "message":
                say(f"MSG {m.get('name')}: {m.get('text')}")
            elif m.get("type") == "userlist":
                say("USERS " + " ".join(m.get("users", [])))

    p = asyncio.ensure_future(printer())
    while True:
        line = await reader.readline()
        if not line:
            break
        text = line.decode().rstrip("\n")
        if text:
            await c.say(text)
    await c.close()
    p.cancel()
    return "stdin closed"


MODES = {"malformed": mode_malformed, "unknown": mode_unknown, "oversize": mode_oversize,
         "rename": mode_rename, "html": mode_html, "endpoints": mode_endpoints,
         "fanout": mode_fanout}


async def start_server(args):
    """Starts `wsc chat --listen 127.0.0.1:0`; returns (process, port)."""
    proc = await asyncio.create_subprocess_exec(
        args.wsc, "chat", "--listen", "127.0.0.1:0", "--max-message", str(args.max_message),
        stdin=asyncio.subprocess.DEVNULL, stdout=asyncio.subprocess.PIPE)
    try:
        line = (await asyncio.wait_for(proc.stdout.readline(), STEP)).decode()
    except asyncio.TimeoutError:
        line = ""
    m = re.match(r"chat server listening on http://127\.0\.0\.1:(\d+)/", line)
    if not m:
        await stop_server(proc)
        raise Fail(f"wsc chat did not print its URL (got {line!r})")
    return proc, int(m.group(1))


async def stop_server(proc):
    """SIGTERM (SIGKILL after 5 s); returns the exit status, or a string
    saying why it is not the 0 of a graceful stop."""
    if proc.returncode is None:
        proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(proc.wait(), 5)
        except asyncio.TimeoutError:
            proc.kill()
            await proc.wait()
            return "wsc chat did not stop within 5 s of SIGTERM"
    if proc.returncode != 0:
        return f"wsc chat exited with status {proc.returncode} (sanitizer report above?)"
    return 0


async def main(args):
    stop = stop_event(args.no_stdin or args.mode == "say")
    server = None
    try:
        if args.mode == "say":
            work = mode_say(args.url, args)
        else:
            server, port = await start_server(args)
            say(f"PORT {port}")
            url = f"ws://127.0.0.1:{port}/chat"
            if args.mode == "shutdown":
                work = mode_shutdown(url, args, server)
            else:
                work = MODES[args.mode](url, args)
        task = asyncio.ensure_future(asyncio.wait_for(work, args.timeout))
        stopper = asyncio.ensure_future(stop.wait())
        await asyncio.wait([task, stopper], return_when=asyncio.FIRST_COMPLETED)
        if not task.done():
            task.cancel()
            say("RESULT fail stopped before the scenario ended")
            return 1
        stopper.cancel()
        try:
            detail = task.result()
        except asyncio.TimeoutError:
            say(f"RESULT fail timed out after {args.timeout} s")
            return 1
        if server is not None:
            stopped, server = await stop_server(server), None
            if stopped != 0:
                raise Fail(stopped)
        say(f"RESULT ok {detail}")
        return 0
    except Fail as e:
        say(f"RESULT fail {e}")
        return 1
    except (OSError, websockets.WebSocketException) as e:
        say(f"RESULT fail {type(e).__name__}: {e}")
        return 1
    finally:
        if server is not None:
            await stop_server(server)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mode", required=True, choices=sorted(list(MODES) + ["shutdown", "say"]))
    ap.add_argument("--wsc", default="build/wsc", help="the wsc binary (test modes)")
    ap.add_argument("--url", help="chat endpoint (mode say)")
    ap.add_argument("--name", default="terminal", help="user name (mode say)")
    ap.add_argument("--clients", type=int, default=200)
    ap.add_argument("--messages", type=int, default=50)
    ap.add_argument("--max-message", type=int, default=65536)
    ap.add_argument("--timeout", type=float, default=50.0)
    ap.add_argument("--no-stdin", action="store_true")
    args = ap.parse_args()
    sys.exit(asyncio.run(main(args)))

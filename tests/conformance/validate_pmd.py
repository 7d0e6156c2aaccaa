#!/usr/bin/python3
"""validate_pmd.py - checks the permessage-deflate sections (12, 13) of the
fuzzer itself, against peers known to be right and peers broken on purpose:

  1. the fuzzer's client mode against Python websockets' echo server
     (tests/interop/peers/py_server.py, compression on): every case websockets
     can do passes. websockets 10.4 cannot compress with an 8-bit window
     (zlib refuses raw windowBits 8; it answers 500 or closes 1011), so 13.3,
     13.5 and 13.7 must FAIL there, and the rest must be OK;
  2. the fuzzer's server mode against a Python websockets client agent
     (below, compression on, its default offer): no case FAILED;
  3. the fuzzer's client mode against broken echo servers (below), each of
     which must make some case FAIL:
       takeover  agrees to server_no_context_takeover but keeps its context
       window    agrees to server_max_window_bits but deflates with 15 bits
       norsv     sends compressed payloads without RSV1
       rsvcont   sets RSV1 on continuation frames too
       corrupt   changes one octet of every echo before compressing it
       plain     accepts permessage-deflate but never compresses (NON-STRICT)

  /usr/bin/python3 tests/conformance/validate_pmd.py [--only NAME]

Prints one line per check and exits 1 if any check went the wrong way. Not a
ctest (it validates the test tool, not wsc); run it after changing the
fuzzer's sections 12 and 13.
"""
import argparse
import asyncio
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
ROOT = os.path.dirname(os.path.dirname(HERE))
FUZZER = os.path.join(HERE, "fuzzer.py")
PY = "/usr/bin/python3"

import pmd  # noqa: E402
import wire  # noqa: E402

CASES = "12.*,13.*"


def run_client(url, report, cases=CASES, agent="peer"):
    """The fuzzer's client mode; returns the report."""
    subprocess.run([PY, FUZZER, "client", url, "--report", report, "--cases", cases, "--quiet",
                    "--agent", agent, "--max-seconds", "120"], stdout=subprocess.DEVNULL,
                   timeout=150)
    with open(report) as f:
        return json.load(f)


def verdicts(rep):
    return {c["id"]: c["verdict"] for c in rep["cases"]}


# ---- broken echo servers ----------------------------------------------------

def evil_serve(sock, mode):
    head, rest = wire.read_head(sock, time.monotonic() + 5)
    if head is None:
        sock.close()
        return
    _line, headers = wire.parse_head(head)
    offers = pmd.parse_extensions(headers.get("sec-websocket-extensions", ""))
    offer = offers[0][1] if offers else {}
    nct = "server_no_context_takeover" in offer
    bits = int(offer["server_max_window_bits"]) if "server_max_window_bits" in offer else 15
    resp = "permessage-deflate" + ("; server_no_context_takeover" if nct else "") + (
        "; server_max_window_bits=%d" % bits if "server_max_window_bits" in offer else "")
    sock.sendall(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade"
                  "\r\nSec-WebSocket-Accept: %s\r\nSec-WebSocket-Extensions: %s\r\n\r\n" % (
                      wire.accept_for(headers["sec-websocket-key"].encode()).decode(),
                      resp)).encode())
    conn = wire.Conn(sock, "server", rest)
    # our view: we are the server; the fuzzer (client) promised no takeover
    agreed = pmd.Agreed(we_nct=nct, we_bits=bits, peer_nct=True,
                        peer_bits=15, header=resp)
    conn.pmd_rx = pmd.Receiver(agreed)
    lie = pmd.Agreed(we_nct=nct and mode != "takeover", we_bits=15 if mode == "window" else bits,
                     peer_nct=True, peer_bits=15, header=resp)
    comp = pmd.Compressor(lie)
    if mode == "window":
        comp.compress = lambda data, z=[None]: _deflate15(z, data, nct)
    done = 0
    end = time.monotonic() + 60
    while time.monotonic() < end and not conn.eof and conn.peer_close is None:
        conn.pump(time.monotonic() + 0.5, until=lambda: len(conn.obs) > done or conn.eof)
        while done < len(conn.obs):
            _kind, op, data = conn.obs[done]
            done += 1
            opc = wire.TEXT if op == "text" else wire.BINARY
            if mode == "corrupt" and data:
                data = bytes([data[0] ^ 1]) + data[1:]
            if mode == "plain":
                frames = [conn.frame(opc, data)]
            else:
                payload = comp.compress(data)
                rsv = 0 if mode == "norsv" else wire.RSV1
                if mode == "rsvcont" and len(payload) > 1:
                    frames = [conn.frame(opc, payload[:1], fin=False, rsv=rsv),
                              conn.frame(wire.CONT, payload[1:], rsv=rsv)]
                else:
                    frames = [conn.frame(opc, payload, rsv=rsv)]
            try:
                conn.send(b"".join(frames), time.monotonic() + 10)
            except (wire.PeerClosed, TimeoutError):
                break
    conn.pump(time.monotonic() + 2, until=lambda: conn.eof)
    conn.shutdown()
    conn.close()


def _deflate15(z, data, nct):
    import zlib
    if z[0] is None or nct:
        z[0] = zlib.compressobj(6, zlib.DEFLATED, -15)
    return (z[0].compress(data) + z[0].flush(zlib.Z_SYNC_FLUSH))[:-4]


def start_evil(mode):
    lsock = socket.socket()
    lsock.bind(("127.0.0.1", 0))
    lsock.listen(8)

    def loop():
        while True:
            try:
                s, _ = lsock.accept()
            except OSError:
                return
            threading.Thread(target=evil_serve, args=(s, mode), daemon=True).start()
    threading.Thread(target=loop, daemon=True).start()
    return lsock, lsock.getsockname()[1]


# ---- a websockets client agent for the fuzzer's server mode -----------------

async def agent(port, name, cmwb):
    """Drive the fuzzing server like `wsc autobahn`; cmwb: offer
    client_max_window_bits (websockets' default) or not."""
    import websockets
    from websockets.extensions.permessage_deflate import ClientPerMessageDeflateFactory
    ext = [ClientPerMessageDeflateFactory(client_max_window_bits=True if cmwb else None)]
    base = "ws://127.0.0.1:%d" % port
    async with websockets.connect(base + "/getCaseCount") as ws:
        n = int(await ws.recv())
    for i in range(1, n + 1):
        try:
            async with websockets.connect("%s/runCase?case=%d&agent=%s" % (base, i, name),
                                          max_size=None, extensions=ext) as ws:
                async for msg in ws:
                    await ws.send(msg)
        except (websockets.exceptions.WebSocketException, ValueError, OSError):
            pass  # ValueError: websockets cannot deflate with 8 bits
    async with websockets.connect("%s/updateReports?agent=%s" % (base, name)) as ws:
        try:
            await ws.recv()
        except websockets.exceptions.ConnectionClosed:
            pass


# ---- checks ---------------------------------------------------------------------

def check_websockets_server(tmp):
    p = subprocess.Popen([PY, os.path.join(ROOT, "tests/interop/peers/py_server.py"), "--mode",
                          "echo", "--max-seconds", "300"], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        port = int(p.stdout.readline().split()[1])
        v = verdicts(run_client("ws://127.0.0.1:%d/" % port, os.path.join(tmp, "pyws.json")))
    finally:
        p.kill()
        p.wait()
    eight = [c for c in v if c.split(".")[1] in ("3", "5", "7") and c.startswith("13.")]
    bad = [c for c in v if c not in eight and v[c] != "OK"]
    ok8 = [c for c in eight if v[c] != "FAILED"]
    return not bad and not ok8, "%d cases; not OK: %s; 8-bit cases not FAILED: %s" % (
        len(v), bad[:5], ok8[:5])


def check_websockets_agent(tmp, cmwb):
    p = subprocess.Popen([PY, FUZZER, "server", "--report", tmp, "--cases", CASES, "--quiet",
                          "--max-seconds", "300"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.DEVNULL, text=True)
    try:
        port = int(p.stdout.readline().split()[1])
        asyncio.run(asyncio.wait_for(agent(port, "pyws-agent", cmwb), 200))
        summary = p.stdout.readline().strip()
    finally:
        p.kill()
        p.wait()
    with open(os.path.join(tmp, "pyws-agent.json")) as f:
        v = verdicts(json.load(f))
    def expect(c):
        sub = c.rsplit(".", 1)[0]
        if cmwb:  # websockets fails where it must deflate with 8 bits
            return "FAILED" if sub in ("13.3", "13.5", "13.7") else "OK"
        # no client_max_window_bits offered: the cases needing it cannot run;
        # 13.7 falls back to its second acceptance
        return "UNIMPLEMENTED" if sub in ("13.3", "13.4", "13.5", "13.6") else "OK"
    bad = [c for c in v if v[c] != expect(c)]
    return not bad and len(v) == 216, "%s; unexpected: %s" % (
        summary, ["%s %s" % (c, v[c]) for c in bad[:5]])


def check_evil(tmp, mode):
    lsock, port = start_evil(mode)
    try:
        v = verdicts(run_client("ws://127.0.0.1:%d/" % port, os.path.join(tmp, mode + ".json"),
                                agent="evil-" + mode))
    finally:
        lsock.close()
    failed = sorted(c for c in v if v[c] == "FAILED")
    nonstrict = sorted(c for c in v if v[c] == "NON-STRICT")
    if mode == "plain":
        return bool(nonstrict) and not failed, "NON-STRICT %d, FAILED %d" % (
            len(nonstrict), len(failed))
    return bool(failed), "FAILED %d of %d (first %s)" % (len(failed), len(v), failed[:3])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--only", default="")
    args = ap.parse_args()
    checks = [("websockets-server", check_websockets_server),
              ("websockets-agent", lambda tmp: check_websockets_agent(tmp, True)),
              ("websockets-agent-nocmwb", lambda tmp: check_websockets_agent(tmp, False))] + [
        ("evil-" + m, lambda tmp, m=m: check_evil(tmp, m))
        for m in ("takeover", "window", "norsv", "rsvcont", "corrupt", "plain")]
    bad = 0
    with tempfile.TemporaryDirectory() as tmp:
        for name, fn in checks:
            if args.only and args.only != name:
                continue
            t = time.monotonic()
            ok, what = fn(tmp)
            print("%-18s %s  %s (%.1f s)" % (name, "ok  " if ok else "WRONG", what,
                                              time.monotonic() - t))
            sys.stdout.flush()
            bad += not ok
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())

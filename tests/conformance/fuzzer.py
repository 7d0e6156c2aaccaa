#!/usr/bin/python3
"""fuzzer.py - an Autobahn-style WebSocket fuzzer, in the Python standard library.

  fuzzer.py server --port 0 --report DIR [--cases 1.*,6.*]
      The fuzzing server (like Autobahn's fuzzingserver), to test clients.
      Prints `PORT <n>` once listening on 127.0.0.1. A client agent asks
        /getCaseCount                  -> one text message: the number of cases
        /runCase?case=N&agent=A        -> case N (1-based) is played against it
        /updateReports?agent=A         -> DIR/A.json is written, a SUMMARY line
                                          printed, and the connection closed
      Exits on SIGTERM/SIGINT, when stdin reaches EOF (unless --no-stdin), or
      after --max-seconds (the conventions of tests/interop/peers/peerlib.py).

  fuzzer.py client ws://127.0.0.1:PORT/ --report FILE [--cases 1.*,6.*]
      The fuzzing client (like Autobahn's fuzzingclient), to test an echo
      server: one connection per case, a JSON report, exit status 1 if any
      case FAILED (2 on usage errors).

  fuzzer.py list [--cases ...]      print the case list

  The default case list is sections 1-10; the permessage-deflate sections
  12 and 13 (pmdcases.py) run with --cases 12.*,13.* (or --cases all).

Every case has a deadline; see cases.py for the list and the verdicts (OK,
NON-STRICT, FAILED, and UNIMPLEMENTED for a permessage-deflate case whose
parameters the peer did not negotiate).
"""
import argparse
import datetime
import json
import os
import signal
import socket
import sys
import threading
import time
import urllib.parse

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import cases as caselib  # noqa: E402
import pmd  # noqa: E402
import wire  # noqa: E402


def say(line):
    """One line on stdout, flushed at once (the test reads it)."""
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def log(msg):
    sys.stderr.write("fuzzer: %s\n" % msg)
    sys.stderr.flush()


def summarize(results, total):
    """Counts per verdict over the results, and how many cases never ran."""
    s = {"OK": 0, "NON-STRICT": 0, "FAILED": 0, "UNIMPLEMENTED": 0}
    for r in results:
        s[r["verdict"]] += 1
    s["run"] = len(results)
    s["missing"] = total - len(results)
    return s


def write_report(path, agent, mode, selected, results):
    """Write the JSON report; returns the summary dict."""
    by_id = {r["id"]: r for r in results}
    ordered = [by_id[c.id] for c in selected if c.id in by_id]
    summary = summarize(ordered, len(selected))
    doc = {
        "agent": agent,
        "mode": mode,
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "cases_total": len(selected),
        "summary": summary,
        "cases": ordered,
    }
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
    os.replace(tmp, path)
    return summary


def summary_line(agent, summary):
    return ("SUMMARY agent=%s run=%d OK=%d NON-STRICT=%d FAILED=%d UNIMPLEMENTED=%d "
            "missing=%d" % (agent, summary["run"], summary["OK"], summary["NON-STRICT"],
                            summary["FAILED"], summary["UNIMPLEMENTED"], summary["missing"]))


# ---- server mode -----------------------------------------------------------

def respond(sock, status, body=b""):
    """A plain HTTP response, then close."""
    try:
        sock.sendall(("HTTP/1.1 %s\r\nContent-Type: text/plain\r\nContent-Length: %d\r\n"
                      "Connection: close\r\n\r\n" % (status, len(body))).encode() + body)
    except OSError:
        pass
    sock.close()


def server_accept(sock, selected=()):
    """Read the upgrade request and answer 101. Returns (path, query dict,
    leftover bytes, permessage-deflate state) or None after answering an
    error. The state is None, or (Agreed or None, note) for a /runCase of a
    permessage-deflate case: the agent's offers answered with the case's
    acceptance (pmd.server_accept)."""
    head, rest = wire.read_head(sock, time.monotonic() + 10)
    if head is None:
        sock.close()
        return None
    line, headers = wire.parse_head(head)
    parts = line.split(" ")
    key = headers.get("sec-websocket-key", "")
    if (len(parts) != 3 or parts[0] != "GET" or "websocket" not in
            headers.get("upgrade", "").lower() or not key or
            headers.get("sec-websocket-version") != "13"):
        respond(sock, "400 Bad Request", b"not a WebSocket upgrade\n")
        return None
    url = urllib.parse.urlsplit(parts[1])
    query = dict(urllib.parse.parse_qsl(url.query))
    # extensions: only permessage-deflate, only for a case that asks for it
    state, ext = None, ""
    c = None
    if url.path.endswith("/runCase"):
        try:
            c = selected[int(query.get("case", "")) - 1]
        except (ValueError, IndexError):
            c = None
    if c is not None and c.pmd is not None:
        try:
            resp, got = pmd.server_accept(headers.get("sec-websocket-extensions", ""),
                                          c.pmd["accept"])
            state = (got, "") if resp else (None, got)
            ext = "Sec-WebSocket-Extensions: %s\r\n" % resp if resp else ""
        except pmd.NegotiationError as e:
            state = (None, "the agent's offer breaks RFC 7692: %s" % e)
    sock.sendall(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                  "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n%s"
                  "Server: wsc-fuzzer\r\n\r\n" % (wire.accept_for(key.encode()).decode(),
                                                     ext)).encode())
    return url.path, query, rest, state


def set_pmd(conn, agreed, note):
    """Put the permessage-deflate agreement (or why there is none) on conn."""
    conn.pmd_agreed = agreed
    conn.pmd_note = note
    if agreed is not None:
        conn.pmd_rx = pmd.Receiver(agreed)
        conn.pmd_tx = pmd.Compressor(agreed)


def close_politely(conn, code=1000):
    """Send a Close, wait (bounded) for the answer, close TCP."""
    try:
        conn.send_close(code, b"", time.monotonic() + 5)
        conn.pump(time.monotonic() + 5, until=lambda: conn.peer_close is not None or conn.eof)
    except (wire.PeerClosed, TimeoutError):
        pass
    conn.shutdown()
    conn.close()


def serve_one(sock, selected, results, args):
    """Handle one connection of the agent."""
    got = server_accept(sock, selected)
    if got is None:
        return
    path, query, rest, pmd_state = got
    conn = wire.Conn(sock, "server", rest)
    if pmd_state is not None:
        set_pmd(conn, *pmd_state)
    agent = query.get("agent", "unknown")
    if path.rstrip("/").endswith("/getCaseCount") or path == "/getCaseCount":
        try:
            conn.send(conn.frame(wire.TEXT, str(len(selected)).encode()), time.monotonic() + 5)
        except (wire.PeerClosed, TimeoutError):
            pass
        close_politely(conn)
    elif path.endswith("/runCase"):
        try:
            n = int(query.get("case", ""))
        except ValueError:
            n = 0
        if not 1 <= n <= len(selected):
            close_politely(conn, 1008)
            return
        c = selected[n - 1]
        try:
            r = caselib.run_case(c, conn)
            if pmd_state is not None and pmd_state[1].startswith("the agent's offer breaks"):
                r["verdict"] = "FAILED"
                r["notes"].append(pmd_state[1])
        finally:
            conn.close()
        r["case_index"] = n
        results.setdefault(agent, {})[c.id] = r
        if not args.quiet:
            say("CASE %s %s %s" % (n, c.id, r["verdict"]))
    elif path.endswith("/updateReports"):
        mine = list(results.get(agent, {}).values())
        os.makedirs(args.report, exist_ok=True)
        name = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in agent) or "agent"
        summary = write_report(os.path.join(args.report, name + ".json"), agent, "server",
                               selected, mine)
        say(summary_line(agent, summary))
        close_politely(conn)
    else:
        close_politely(conn, 1008)


def watch_stdin():
    """Exit when stdin reaches EOF (the test that started us is gone)."""
    def run():
        try:
            while os.read(0, 4096):
                pass
        except OSError:
            pass
        os._exit(0)
    threading.Thread(target=run, daemon=True).start()


def cmd_server(args):
    selected = caselib.select(args.cases)
    if not selected:
        log("no case matches %r" % args.cases)
        return 2
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    signal.signal(signal.SIGINT, lambda *_: sys.exit(0))
    if not args.no_stdin:
        watch_stdin()
    lsock = socket.socket(socket.AF_INET6 if ":" in args.host else socket.AF_INET)
    lsock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    lsock.bind((args.host, args.port))
    lsock.listen(16)
    lsock.settimeout(0.5)
    say("PORT %d" % lsock.getsockname()[1])
    end = time.monotonic() + args.max_seconds
    results = {}
    while time.monotonic() < end:
        try:
            sock, _ = lsock.accept()
        except socket.timeout:
            continue
        try:
            serve_one(sock, selected, results, args)
        except Exception as e:  # one bad connection must not stop the server
            log("connection error: %r" % e)
            try:
                sock.close()
            except OSError:
                pass
    log("--max-seconds reached")
    return 0


# ---- client mode -----------------------------------------------------------

def cmd_client(args):
    url = urllib.parse.urlsplit(args.url)
    if url.scheme != "ws" or not url.hostname:
        log("the URL must be ws://host:port/...")
        return 2
    host, port = url.hostname, url.port or 80
    path = (url.path or "/") + ("?" + url.query if url.query else "")
    selected = caselib.select(args.cases)
    if not selected:
        log("no case matches %r" % args.cases)
        return 2
    end = time.monotonic() + args.max_seconds
    results = []
    for c in selected:
        if time.monotonic() > end:
            log("--max-seconds reached; the remaining cases are missing from the report")
            break
        offer = None
        if c.pmd is not None:
            offer = ", ".join(pmd.offer_string(*o) for o in c.pmd["offers"])
        agreed, note = None, ""
        try:
            sock, rest, ext = wire.client_handshake_ext(host, port, path, offer)
            if offer is not None:
                try:
                    agreed = pmd.client_check_response(c.pmd["offers"], ext)
                    note = "the server did not accept %s" % offer if agreed is None else ""
                except pmd.NegotiationError as e:
                    sock.close()
                    raise ValueError(str(e))
        except (OSError, ValueError) as e:
            results.append({"id": c.id, "description": c.desc, "expected": c.expect,
                            "verdict": "FAILED", "behavior": "FAILED", "behavior_close": "FAILED",
                            "observed": [], "remote_close_code": None, "notes": [
                                "opening handshake failed: %s" % e]})
            if not args.quiet:
                say("CASE %s FAILED (handshake: %s)" % (c.id, e))
            continue
        conn = wire.Conn(sock, "client", rest)
        if offer is not None:
            set_pmd(conn, agreed, note)
        try:
            r = caselib.run_case(c, conn)
        finally:
            conn.close()
        results.append(r)
        if not args.quiet:
            say("CASE %s %s%s" % (c.id, r["verdict"],
                                  "" if r["verdict"] == "OK" else "  " + "; ".join(r["notes"])))
    summary = write_report(args.report, args.agent, "client", selected, results)
    say(summary_line(args.agent, summary))
    return 1 if summary["FAILED"] or summary["missing"] else 0


def cmd_list(args):
    for c in caselib.select(args.cases):
        say("%-9s %s\n          expect: %s" % (c.id, c.desc, c.expect))
    return 0


def main():
    ap = argparse.ArgumentParser(description="Autobahn-style WebSocket fuzzer")
    sub = ap.add_subparsers(dest="cmd", required=True)
    sp = sub.add_parser("server", help="fuzzing server: tests WebSocket clients")
    sp.add_argument("--host", default="127.0.0.1", choices=["127.0.0.1", "::1", "localhost"])
    sp.add_argument("--port", type=int, default=0)
    sp.add_argument("--report", required=True, help="directory for AGENT.json reports")
    sp.add_argument("--cases", default="", help="case patterns, e.g. 1.*,6.4.1")
    sp.add_argument("--max-seconds", type=float, default=600)
    sp.add_argument("--no-stdin", action="store_true", help="do not exit on stdin EOF")
    sp.add_argument("--quiet", action="store_true", help="no CASE line per case")
    cp = sub.add_parser("client", help="fuzzing client: tests WebSocket echo servers")
    cp.add_argument("url")
    cp.add_argument("--report", required=True, help="JSON report file")
    cp.add_argument("--cases", default="")
    cp.add_argument("--agent", default="server", help="name recorded in the report")
    cp.add_argument("--max-seconds", type=float, default=600)
    cp.add_argument("--quiet", action="store_true")
    lp = sub.add_parser("list", help="print the case list")
    lp.add_argument("--cases", default="")
    args = ap.parse_args()
    if args.cmd == "server":
        # backstop: whatever happens, the process does not outlive its cap
        signal.alarm(int(args.max_seconds) + 30)
        return cmd_server(args)
    if args.cmd == "client":
        return cmd_client(args)
    return cmd_list(args)


if __name__ == "__main__":
    sys.exit(main())

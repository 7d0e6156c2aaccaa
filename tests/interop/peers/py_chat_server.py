#!/usr/bin/python3
"""py_chat_server.py - the chat protocol of MDN's "Writing WebSocket client
applications" on Python `websockets`, to test `wsc chat-client` on its own.

Run it with Debian's interpreter, /usr/bin/python3 (python3-websockets).

Listens on 127.0.0.1 at a free port and prints `PORT <n>` once listening;
exits on SIGTERM/SIGINT, stdin EOF (unless --no-stdin) or --max-seconds.

JSON over text messages, subprotocol "json" selected when offered:
  server -> {"type":"id","id":N}                       on connect
  client -> {"type":"username","name":S,"id":N,"date":MS}
  server -> {"type":"rejectusername","name":NEW}       when S is taken (S2, S3...)
  server -> {"type":"userlist","users":[...]}          to all, after any change
  client -> {"type":"message","text":S,"id":N,"date":MS}
  server -> the message plus "name" (the sender's name)  to all
  server -> {"type":"error","message":TEXT}            for anything else

For the test it reports on stdout: `CONNECT <id> <protocol or ->`,
`USERNAME <id> <name>`, `MESSAGE <id> <json>` (each message as received),
`GONE <id> <close code>`. --send-error TEXT sends each new connection an
error message right after its id.
"""
import argparse
import asyncio
import json
import signal
import sys

import websockets
import websockets.exceptions

from peerlib import say, stop_event


async def main(args):
    stop = stop_event(args.no_stdin)
    clients = {}  # ws -> {"id": n, "name": str or None}
    next_id = [0]

    async def send_all(obj):
        data = json.dumps(obj)
        for ws in list(clients):
            try:
                await ws.send(data)
            except websockets.exceptions.ConnectionClosed:
                pass

    async def send_userlist():
        await send_all({"type": "userlist",
                        "users": [c["name"] for c in clients.values() if c["name"]]})

    def taken(name, me):
        return any(c["name"] == name for ws, c in clients.items() if ws is not me)

    async def handler(ws, path=None):
        next_id[0] += 1
        me = {"id": next_id[0], "name": None}
        clients[ws] = me
        say(f"CONNECT {me['id']} {ws.subprotocol or '-'}")
        try:
            await ws.send(json.dumps({"type": "id", "id": me["id"]}))
            if args.send_error:
                await ws.send(json.dumps({"type": "error", "message": args.send_error}))
            async for raw in ws:
                if not isinstance(raw, str):
                    await ws.send(json.dumps({"type": "error", "message": "binary not allowed"}))
                    continue
                say(f"MESSAGE {me['id']} {raw}")
                try:
                    msg = json.loads(raw)
                except ValueError:
                    await ws.send(json.dumps({"type": "error", "message": "bad JSON"}))
                    continue
                kind = msg.get("type") if isinstance(msg, dict) else None
                if kind == "username" and isinstance(msg.get("name"), str) and msg["name"]:
                    want = msg["name"]
                    name, n = want, 1
                    while taken(name, ws):
                        n += 1
                        name = f"{want}{n}"
                    if name != want:
                        await ws.send(json.dumps({"type": "rejectusername", "name": name}))
                    me["name"] = name
                    say(f"USERNAME {me['id']} {name}")
                    await send_userlist()
                elif kind == "message" and isinstance(msg.get("text"), str):
                    out = {"type": "message", "text": msg["text"], "id": me["id"],
                           "date": msg.get("date", 0), "name": me["name"] or "?"}
                    await send_all(out)
                else:
                    await ws.send(json.dumps({"type": "error", "message": "unknown message"}))
        except websockets.exceptions.ConnectionClosed:
            pass
        finally:
            del clients[ws]
            say(f"GONE {me['id']} {ws.close_code}")
            await send_userlist()

    async with websockets.serve(handler, "127.0.0.1", 0, subprotocols=["json"],
                                compression=None, close_timeout=2) as server:
        say(f"PORT {server.sockets[0].getsockname()[1]}")
        try:
            await asyncio.wait_for(stop.wait(), args.max_seconds)
        except asyncio.TimeoutError:
            print("py_chat_server: --max-seconds reached", file=sys.stderr)
        for ws in list(server.websockets):
            ws.transport.abort()
        server.close()


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--send-error", default="")
    ap.add_argument("--max-seconds", type=float, default=120)
    ap.add_argument("--no-stdin", action="store_true")
    a = ap.parse_args()
    signal.alarm(int(a.max_seconds) + 5)
    asyncio.run(main(a))

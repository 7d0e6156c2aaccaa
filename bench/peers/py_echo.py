#!/usr/bin/python3
"""py_echo.py - a Python `websockets` echo server, a peer for bench/compare.sh.

    /usr/bin/python3 py_echo.py PORT [--deflate [takeover|no-takeover]]
    (PORT 0: any free port)

Listens on 127.0.0.1, prints `listening on 127.0.0.1:PORT` once it does, and
echoes every message with its type (websockets hands text over as str, binary
as bytes, and send() keeps the type). websockets 10.4 defaults except:
compression=None (no permessage-deflate), max_size 64 MiB (the default, 1 MiB,
is the size of the largest benchmark message: no headroom), ping_interval=None
(no keepalive pings during the idle scenario). Stops on SIGTERM or SIGINT.

--deflate: compression="deflate", websockets' default server configuration
(server_max_window_bits=12, client_max_window_bits=12, memLevel 5, zlib's
default level; a client's request for no context takeover is honoured).
--deflate no-takeover: the same factory with server_no_context_takeover and
client_no_context_takeover set, so every connection resets after each message.
"""
import asyncio
import signal
import sys

import websockets
from websockets.extensions.permessage_deflate import ServerPerMessageDeflateFactory


async def echo(ws, _path=None):
    try:
        async for message in ws:
            await ws.send(message)
    except websockets.ConnectionClosed:
        pass


async def main(port, deflate):
    loop = asyncio.get_running_loop()
    stop = loop.create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set_result, None)
    kwargs = {"compression": None}
    if deflate == "takeover":
        kwargs = {"compression": "deflate"}
    elif deflate == "no-takeover":
        # websockets' defaults (enable_server_permessage_deflate) plus no takeover.
        kwargs = {"compression": None, "extensions": [ServerPerMessageDeflateFactory(
            server_no_context_takeover=True, client_no_context_takeover=True,
            server_max_window_bits=12, client_max_window_bits=12,
            compress_settings={"memLevel": 5})]}
    async with websockets.serve(echo, "127.0.0.1", port, max_size=64 * 1024 * 1024,
                                ping_interval=None, **kwargs) as server:
        bound = server.sockets[0].getsockname()[1]
        print(f"listening on 127.0.0.1:{bound}", flush=True)
        await stop


if __name__ == "__main__":
    try:
        port = int(sys.argv[1])
        if not 0 <= port <= 65535:
            raise ValueError
        deflate = None
        if len(sys.argv) > 2:
            if sys.argv[2] != "--deflate" or len(sys.argv) > 4:
                raise ValueError
            deflate = sys.argv[3] if len(sys.argv) > 3 else "takeover"
            if deflate not in ("takeover", "no-takeover"):
                raise ValueError
    except (IndexError, ValueError):
        print("usage: py_echo.py PORT [--deflate [takeover|no-takeover]]", file=sys.stderr)
        sys.exit(2)
    asyncio.run(main(port, deflate))

#!/usr/bin/python3
"""py_echo.py - a Python `websockets` echo server, a peer for bench/compare.sh.

    /usr/bin/python3 py_echo.py PORT        (0: any free port)

Listens on 127.0.0.1, prints `listening on 127.0.0.1:PORT` once it does, and
echoes every message with its type (websockets hands text over as str, binary
as bytes, and send() keeps the type). websockets 10.4 defaults except:
compression=None (no permessage-deflate), max_size 64 MiB (the default, 1 MiB,
is the size of the largest benchmark message: no headroom), ping_interval=None
(no keepalive pings during the idle scenario). Stops on SIGTERM or SIGINT.
"""
import asyncio
import signal
import sys

import websockets


async def echo(ws, _path=None):
    try:
        async for message in ws:
            await ws.send(message)
    except websockets.ConnectionClosed:
        pass


async def main(port):
    loop = asyncio.get_running_loop()
    stop = loop.create_future()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set_result, None)
    async with websockets.serve(echo, "127.0.0.1", port, compression=None,
                                max_size=64 * 1024 * 1024, ping_interval=None) as server:
        bound = server.sockets[0].getsockname()[1]
        print(f"listening on 127.0.0.1:{bound}", flush=True)
        await stop


if __name__ == "__main__":
    try:
        port = int(sys.argv[1])
        if not 0 <= port <= 65535:
            raise ValueError
    except (IndexError, ValueError):
        print("usage: py_echo.py PORT", file=sys.stderr)
        sys.exit(2)
    asyncio.run(main(port))

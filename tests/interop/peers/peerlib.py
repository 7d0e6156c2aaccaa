"""peerlib - what every Python test peer shares: the `PORT <n>` / line
protocol on stdout and the rule that a peer stops on SIGTERM/SIGINT or when
its stdin reaches EOF (so a crashed test never leaks a server)."""
import asyncio
import os
import signal
import sys
import threading


def say(line):
    """One line to the test, flushed at once."""
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


def stop_event(no_stdin):
    """An asyncio.Event set on SIGTERM/SIGINT and, unless no_stdin, when
    stdin reaches EOF. Call from inside the running loop."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    if not no_stdin:
        def watch_stdin():
            try:
                while os.read(0, 4096):
                    pass
            except OSError:
                pass
            loop.call_soon_threadsafe(stop.set)
        threading.Thread(target=watch_stdin, daemon=True).start()
    return stop

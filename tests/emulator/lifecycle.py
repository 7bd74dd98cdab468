"""How the emulator's helper servers (serve.py, proxy.py) live and stop.

Started by a test binary, a server runs until its stdin closes: the test
process holds the pipe, so when it exits (even on a panic or a kill) the
server stops, with no PID files and no orphans. With `forever` (the
Makefile's standalone emulator) it runs until SIGTERM or SIGINT instead.
"""

import signal
import sys
import threading


def wait(forever: bool) -> None:
    """Returns when the server should stop."""
    if forever:
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        signal.signal(signal.SIGINT, lambda *_: stop.set())
        stop.wait()
    else:
        sys.stdin.read()

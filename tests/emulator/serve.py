"""Run a moto server for one test binary, for exactly as long as it lives.

Prints "READY <port>" once the server answers HTTP, then waits on stdin. The
test binary holds the other end of that pipe; when it exits (even on a panic
or a kill) the pipe closes, stdin reads EOF, and the server stops. No PID
files, no orphaned servers.
"""

import socket
import sys
import time
import urllib.request

from moto.server import ThreadedMotoServer


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    deadline = time.monotonic() + 30
    while True:
        try:
            # The reset endpoint answers once the app is up, and the first
            # request also pays moto's lazy import cost before a test does.
            urllib.request.urlopen(
                urllib.request.Request(f"http://127.0.0.1:{port}/moto-api/reset", method="POST"),
                timeout=2,
            )
            break
        except OSError:
            if time.monotonic() > deadline:
                print("moto server did not answer within 30 s", file=sys.stderr)
                sys.exit(1)
            time.sleep(0.1)
    print(f"READY {port}", flush=True)
    sys.stdin.read()
    server.stop()


if __name__ == "__main__":
    main()

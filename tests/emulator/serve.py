"""Run a moto server for the tests and the demo.

Prints "READY <port>" once the server answers HTTP, then lives as
lifecycle.py says: until stdin closes (the test binary holding the pipe
exits), or with --forever (the Makefile's emulator-start) until SIGTERM.

The ECS behaviour moto lacks (deployments that remember their key, paged
ListClusters) is added by ecs_pinning.py.

Usage: serve.py [--port N] [--forever]
"""

import argparse
import os
import socket
import sys
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import ecs_pinning  # noqa: E402
import lifecycle  # noqa: E402
from moto.server import ThreadedMotoServer  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--forever", action="store_true")
    args = parser.parse_args()

    ecs_pinning.install()
    port = args.port or free_port()
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
    lifecycle.wait(args.forever)
    server.stop()


if __name__ == "__main__":
    main()

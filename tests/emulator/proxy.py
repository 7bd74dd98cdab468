"""A small forwarding proxy between the tool and the emulator, for what the
emulator cannot do: add network latency, count the requests in flight, log
when each operation started and ended, and inject failures.

Prints "READY <port>" once listening, then serves until stdin closes (like
serve.py) or, with --forever, until SIGTERM.

Control endpoints (answered by the proxy itself, never forwarded):
  GET  /__stats   {"max_in_flight": N, "requests": N, "connections": N, "log": [[op, start, end], ...]}
  POST /__reset   clears the stats
  POST /__fail    body {"match": TEXT, "status": CODE, "body": TEXT, "content_type": TEXT}:
                  every later request whose body or target contains TEXT gets
                  that answer instead of the emulator's

The operation of a request is its X-Amz-Target (JSON protocols) or its
Action= parameter (query protocols), else its method and path ("GET /"). Times are seconds from the proxy's start.

With --tls-cert FILE --tls-key FILE the proxy also speaks HTTPS (on the same
port: a connection that opens with a TLS handshake gets TLS, the control
requests below may stay plain), and with --connect-delay-ms N it answers
each new TLS connection's handshake N ms late: the TCP and TLS set-up a real endpoint costs (on loopback they cost
nothing). The delay sits inside the client's connect, as on a real network,
so a client that races a new connection against one being returned to its
pool sees the same race it would see against AWS. GET /__stats says how
many connections were opened.

Usage: proxy.py UPSTREAM_URL [--delay-ms N] [--tls-cert FILE --tls-key FILE [--connect-delay-ms N]]
                [--port N] [--forever]
"""

import argparse
import http.client
import json
import socket
import ssl
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import lifecycle

STATE = {"lock": threading.Lock(), "in_flight": 0, "max": 0, "requests": 0, "connections": 0, "log": [], "rules": []}
START = time.monotonic()


def operation(method: str, path: str, headers, body: bytes) -> str:
    """The AWS operation, or the method and path of a request that names none
    (the tool's connection warming sends an unsigned `GET /`)."""
    target = headers.get("X-Amz-Target")
    if target:
        return target.split(".")[-1]
    params = urllib.parse.parse_qs(body.decode("utf-8", "replace"))
    return params.get("Action", [f"{method} {path}"])[0]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # The answer goes out as headers, then body: with Nagle's algorithm on,
    # the body would wait for the client's delayed ACK of the headers (up to
    # 40 ms on Linux), a stall no AWS endpoint adds.
    disable_nagle_algorithm = True
    upstream = None
    delay = 0.0
    connect_delay = 0.0
    tls = None
    local = threading.local()

    def log_message(self, *_):
        pass

    def setup(self) -> None:
        # 0x16: a TLS record of type handshake, the ClientHello.
        if self.tls is not None and self.request.recv(1, socket.MSG_PEEK) == b"\x16":
            # The handshake's answer, late by the set-up time of a real endpoint.
            time.sleep(self.connect_delay)
            self.request = self.tls.wrap_socket(self.request, server_side=True)
            self.connection = self.request
        super().setup()
        self.counted = False

    def reply(self, status: int, body: bytes, content_type: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        try:
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            # The client went away first (a process that has its answer
            # exits without waiting for requests it no longer needs).
            self.close_connection = True

    def control(self, body: bytes) -> bool:
        if self.path == "/__stats":
            with STATE["lock"]:
                out = {"max_in_flight": STATE["max"], "requests": STATE["requests"], "connections": STATE["connections"],
                       "log": STATE["log"]}
            self.reply(200, json.dumps(out).encode())
        elif self.path == "/__reset":
            with STATE["lock"]:
                STATE.update(max=0, requests=0, connections=0, log=[])
            self.reply(200, b"{}")
        elif self.path == "/__fail":
            with STATE["lock"]:
                STATE["rules"].append(json.loads(body))
            self.reply(200, b"{}")
        else:
            return False
        return True

    def upstream_connection(self) -> http.client.HTTPConnection:
        conn = getattr(self.local, "conn", None)
        if conn is None:
            conn = http.client.HTTPConnection(self.upstream.hostname, self.upstream.port, timeout=60)
            self.local.conn = conn
        return conn

    def handle_any(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        if self.path.startswith("/__") and self.control(body):
            return
        op = operation(self.command, self.path, self.headers, body)
        with STATE["lock"]:
            # Connections the tool opened (a control request's are not counted).
            if not self.counted:
                self.counted = True
                STATE["connections"] += 1
            STATE["in_flight"] += 1
            STATE["requests"] += 1
            STATE["max"] = max(STATE["max"], STATE["in_flight"])
            rules = list(STATE["rules"])
        started = time.monotonic() - START
        try:
            # Half the round trip on the way there, half on the way back.
            time.sleep(self.delay / 2)
            text = body.decode("utf-8", "replace") + " " + op
            rule = next((r for r in rules if r["match"] in text), None)
            if rule:
                status, answer, ctype = rule["status"], rule["body"].encode(), rule.get("content_type", "application/json")
            else:
                headers = {k: v for k, v in self.headers.items() if k.lower() not in ("host", "connection")}
                for attempt in range(2):
                    conn = self.upstream_connection()
                    try:
                        conn.request(self.command, self.path, body=body, headers=headers)
                        resp = conn.getresponse()
                        answer = resp.read()
                        break
                    except (http.client.HTTPException, OSError):
                        self.local.conn = None
                        if attempt:
                            raise
                status, ctype = resp.status, resp.getheader("Content-Type", "application/json")
            time.sleep(self.delay / 2)
        finally:
            # Counted out before the answer is written: the client may send
            # its next request as soon as it has read this one, so counting
            # out afterwards would overstate what was in flight.
            with STATE["lock"]:
                STATE["in_flight"] -= 1
                STATE["log"].append([op, round(started, 4), round(time.monotonic() - START, 4)])
        self.reply(status, answer, ctype)

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = handle_any


class QuietServer(ThreadingHTTPServer):
    def handle_error(self, request, client_address) -> None:
        # A client that closes a connection mid-handshake or mid-answer
        # (a process exiting once it has what it needs) is no error here.
        if not isinstance(sys.exc_info()[1], (ConnectionError, ssl.SSLError, OSError)):
            super().handle_error(request, client_address)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("upstream")
    parser.add_argument("--delay-ms", type=float, default=0)
    parser.add_argument("--connect-delay-ms", type=float, default=0)
    parser.add_argument("--tls-cert")
    parser.add_argument("--tls-key")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--forever", action="store_true")
    args = parser.parse_args()
    Handler.upstream = urllib.parse.urlparse(args.upstream)
    Handler.delay = args.delay_ms / 1000
    Handler.connect_delay = args.connect_delay_ms / 1000
    if args.tls_cert:
        Handler.tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        Handler.tls.load_cert_chain(args.tls_cert, args.tls_key)
    elif args.connect_delay_ms:
        parser.error("--connect-delay-ms needs --tls-cert and --tls-key (the delay is in the TLS handshake)")
    server = QuietServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    print(f"READY {server.server_address[1]}", flush=True)
    lifecycle.wait(args.forever)
    server.shutdown()


if __name__ == "__main__":
    main()

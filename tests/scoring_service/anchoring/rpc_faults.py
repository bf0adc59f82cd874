"""A fault injector for JSON-RPC: a relay to a real NEO node that can hold or drop chosen methods.

Used to stop the anchoring process at an exact point (e.g. after it recorded a transaction but
before the node received it) and to make the node look down; everything else is the real node.
"""

import json
import threading
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx

__all__ = ["FaultyRpcRelay", "faulty_relay"]


class FaultyRpcRelay:
    """Relays to `upstream`. Calls of a method in `hold` wait (and are then dropped); calls of a
    method in `drop`, or any call while `down`, get the connection closed without an answer; while
    `bad_gateway`, every call gets a 502 HTML page, as from a proxy whose node is gone."""

    def __init__(self, upstream: str) -> None:
        self.upstream = upstream
        self.hold: set[str] = set()
        self.drop: set[str] = set()
        self.down = False
        self.bad_gateway = False
        self.arrived: defaultdict[str, threading.Event] = defaultdict(threading.Event)
        self.release = threading.Event()
        relay = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                method = str(json.loads(body).get("method"))
                if method in relay.hold:
                    relay.arrived[method].set()
                    relay.release.wait(timeout=60)
                if relay.down or method in relay.drop or method in relay.hold:
                    self.close_connection = True
                    return
                if relay.bad_gateway:
                    page = b"<html><body>502 Bad Gateway</body></html>"
                    self.send_response(502)
                    self.send_header("Content-Type", "text/html")
                    self.send_header("Content-Length", str(len(page)))
                    self.end_headers()
                    self.wfile.write(page)
                    return
                answer = httpx.post(relay.upstream, content=body, headers={"Content-Type": "application/json"})
                try:
                    self.send_response(answer.status_code)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(answer.content)))
                    self.end_headers()
                    self.wfile.write(answer.content)
                except (BrokenPipeError, ConnectionResetError):
                    self.close_connection = True  # the caller was killed mid-call: what the tests do

            def log_message(self, format: str, *args: object) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"


@contextmanager
def faulty_relay(upstream: str) -> Iterator[FaultyRpcRelay]:
    relay = FaultyRpcRelay(upstream)
    thread = threading.Thread(target=relay.server.serve_forever, daemon=True)
    thread.start()
    try:
        yield relay
    finally:
        relay.release.set()
        relay.server.shutdown()
        relay.server.server_close()
        thread.join()

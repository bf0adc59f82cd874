"""`/health` and `/metrics` for the processes that serve no HTTP of their own (the score worker, the
anchorer): a small standard-library server on its own thread.

`GET /health` answers 200 while the loop's heartbeat is fresh and 503 once it is stale (or before
the first step), with a JSON body saying why; `GET /metrics` is the Prometheus text format.
"""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Self

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest

from neot import __version__
from scoring_service.monitoring._heartbeat import Heartbeat

__all__ = ["HealthServer"]


class HealthServer:
    """Serves `/health` (from `heartbeat`) and `/metrics` on `host:port` until closed. Port 0
    picks a free port (`port` tells which)."""

    def __init__(self, heartbeat: Heartbeat, *, host: str = "0.0.0.0", port: int) -> None:
        handler = type("_Handler", (_Handler,), {"heartbeat": heartbeat})
        self._server = ThreadingHTTPServer((host, port), handler)
        self._server.daemon_threads = True
        self.port: int = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, name="health-server", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class _Handler(BaseHTTPRequestHandler):
    heartbeat: Heartbeat

    def do_GET(self) -> None:
        if self.path == "/health":
            status = self.heartbeat.status()
            body = {
                "status": "ok" if status.healthy else "stale",
                "version": __version__,
                "last_step_age_s": None if status.last_beat_age_s is None else round(status.last_beat_age_s, 3),
                "detail": status.detail,
            }
            self._send(200 if status.healthy else 503, json.dumps(body).encode(), "application/json")
        elif self.path == "/metrics":
            self._send(200, generate_latest(REGISTRY), CONTENT_TYPE_LATEST)
        else:
            self._send(404, b'{"detail": "only /health and /metrics are served here"}', "application/json")

    def _send(self, status: int, body: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        """Scrapes every few seconds are not news: no access log."""

"""A small real HTTP ingest server for agent tests (the scoring service's contract, nothing more).

It decodes and verifies each body with `protocol`, stores each (device, seq) once (like the real
server), answers an `Ack` with the highest stored seq, and can be told to answer the next
requests with a status of the test's choosing (503 + Retry-After, 500, 400) or to drop the
connection, so faults are real HTTP behaviour rather than mocks.
"""

import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self

from protocol import Ack, Configure, DecodeError, Sample, SignedBatch, StatusQuery, decode_signed_batch, encode_signal


@dataclass
class Fault:
    """The next answer: `status` with optional headers/body, or `drop` the connection unanswered.
    `after_store` stores the batch first, then fails (a lost acknowledgement)."""

    status: int = 503
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    drop: bool = False
    after_store: bool = False


class IngestServer:
    def __init__(self) -> None:
        self.batches: dict[tuple[str, int], SignedBatch] = {}
        self.requests = 0
        self.duplicates = 0
        self.conflicts = 0
        self.faults: deque[Fault] = deque()
        self.pending_config: Configure | None = None
        self.query = False
        self.reply_delay_s = 0.0  # after storing, before answering: widens the lost-answer window
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: object) -> None:
                pass

            def do_POST(self) -> None:
                outer._handle(self)

        class Server(ThreadingHTTPServer):
            def handle_error(self, request: object, client_address: object) -> None:
                pass  # a dropped connection (a Fault) is the point, not an error

        self.httpd = Server(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self._thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def samples(self) -> list[Sample]:
        """Every stored sample, in (device, seq) order."""
        with self.lock:
            return [s for key in sorted(self.batches) for s in self.batches[key].batch.samples]

    def _reply(
        self, h: BaseHTTPRequestHandler, status: int, body: bytes, headers: dict[str, str] | None = None
    ) -> None:
        h.send_response(status)
        for k, v in (headers or {}).items():
            h.send_header(k, v)
        h.send_header("Content-Type", "application/json")
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body)

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        body = h.rfile.read(int(h.headers.get("Content-Length", "0")))
        with self.lock:
            self.requests += 1
            fault = self.faults.popleft() if self.faults else None
        if h.path != "/v1/ingest/batches":
            self._reply(h, 404, b'{"detail":"not found"}')
            return
        if fault is not None and not fault.after_store:
            self._fail(h, fault)
            return
        try:
            signed = decode_signed_batch(body, content_encoding=h.headers.get("Content-Encoding"))
        except DecodeError as exc:
            self._reply(h, 400, f'{{"detail":"{type(exc).__name__}"}}'.encode())
            return
        batch = signed.batch
        with self.lock:
            key = (batch.device_id, batch.seq)
            if key in self.batches:
                self.duplicates += 1
                if self.batches[key].digest != signed.digest:
                    self.conflicts += 1
            else:
                self.batches[key] = signed
            if batch.report is not None:
                self.query = False
                if self.pending_config is not None and batch.report.config_id == self.pending_config.config_id:
                    self.pending_config = None
            highest = max(seq for dev, seq in self.batches if dev == batch.device_id)
            ack = Ack(seq=highest, configure=self.pending_config, query=StatusQuery() if self.query else None)
        if fault is not None:
            self._fail(h, fault)
            return
        if self.reply_delay_s:
            time.sleep(self.reply_delay_s)
        self._reply(h, 200, encode_signal(ack))

    def _fail(self, h: BaseHTTPRequestHandler, fault: Fault) -> None:
        if fault.drop:
            h.close_connection = True
            h.connection.close()
            return
        self._reply(h, fault.status, fault.body, fault.headers)

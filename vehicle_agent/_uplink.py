"""The uplink: signed batches from the buffer to the scoring service, until acknowledged.

One batch is in flight at a time, oldest first, and a batch's bytes never change once built, so
the server (which de-duplicates by device and seq) stores each sample once however often a
batch is re-sent after a crash or a lost answer. Outcomes of a POST:

- 200 with an `Ack` covering the seq: the batch is deleted; a `Configure` or `StatusQuery` in the
  Ack is handed to the agent, whose next batch carries a `StatusReport` acknowledging it.
- 429 / 503: wait what `Retry-After` says (seconds or an HTTP date), else back off.
- network failure, timeout, other 5xx, 401/403/404 (device not yet registered, wrong URL):
  exponential backoff with equal jitter, up to `max_backoff_s`; logged once per outage.
- other 4xx (the server refuses these bytes for good: malformed, oversize, implausible, or 409
  for a seq it holds with other content): the batch is set aside in the buffer's rejected table,
  counted and logged, so one bad batch cannot block the queue.
"""

import email.utils
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
import structlog

from protocol import (
    Ack,
    Batch,
    DecodeError,
    DeviceKey,
    ProtocolError,
    Sample,
    StatusReport,
    decode_signal,
    gzip_body,
    sign_batch,
)
from vehicle_agent._buffer import Buffer, PendingBatch
from vehicle_agent._errors import AgentError

__all__ = ["INGEST_PATH", "Uplink", "UplinkCounters", "parse_retry_after"]

_log = structlog.get_logger(__name__)

INGEST_PATH = "/v1/ingest/batches"
_RETRY_STATUSES = frozenset({429, 503})
_NOT_YET_STATUSES = frozenset({401, 403, 404, 408})
_MAX_RETRY_AFTER_S = 3600.0


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a `Retry-After` header (delta-seconds or an HTTP date), capped at an
    hour; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return min(float(value), _MAX_RETRY_AFTER_S)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    delta = (when - (now or datetime.now(UTC))).total_seconds()
    return min(max(delta, 0.0), _MAX_RETRY_AFTER_S)


@dataclass(slots=True)
class UplinkCounters:
    """What the uplink has done since it started."""

    posts: int = 0
    acked_batches: int = 0
    acked_samples: int = 0
    failures: int = 0
    rejected_batches: int = 0
    last_error: str | None = None


class Uplink:
    """Uploads the buffer's batches. `on_signal` receives the Ack's Configure/StatusQuery;
    `report` builds the StatusReport put into the next batch when one is due."""

    def __init__(
        self,
        *,
        server_url: str,
        buffer: Buffer,
        key: DeviceKey,
        agent_version: str,
        report: Callable[[], StatusReport],
        on_ack: Callable[[Ack], None],
        upload_interval_s: float = 30.0,
        max_batch_samples: int = 3000,
        timeout_s: float = 10.0,
        min_backoff_s: float = 1.0,
        max_backoff_s: float = 300.0,
        client: httpx.Client | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.buffer = buffer
        self.key = key
        self.agent_version = agent_version
        self.upload_interval_s = upload_interval_s
        self.max_batch_samples = max_batch_samples
        self.min_backoff_s = min_backoff_s
        self.max_backoff_s = max_backoff_s
        self.counters = UplinkCounters()
        self.report_due = True  # the first batch after a start says what this agent runs
        self._report = report
        self._on_ack = on_ack
        self._rng = rng or random.Random()
        self._attempt = 0
        self._outage: str | None = None
        self._client = client or httpx.Client(
            base_url=server_url.rstrip("/"),
            timeout=timeout_s,
            headers={"User-Agent": f"neot-agent/{agent_version}"},
        )

    def close(self) -> None:
        self._client.close()

    def _build(self, seq: int, samples: tuple[Sample, ...]) -> bytes:
        report = self._report() if self.report_due else None
        batch = Batch(self.key.address, seq, samples, self.agent_version, self.key.public_key, report)
        body = gzip_body(sign_batch(batch, self.key).to_wire())
        self.report_due = False
        return body

    def backoff_s(self) -> float:
        """Exponential backoff with equal jitter: half the step fixed, half random."""
        step: float = min(self.max_backoff_s, self.min_backoff_s * 2.0 ** min(self._attempt, 30))
        self._attempt += 1
        return step / 2 + self._rng.uniform(0, step / 2)

    def step(self) -> float:
        """Send (or re-send) the oldest batch once; returns the seconds to wait before the next step."""
        batch = self.buffer.next_batch(self.max_batch_samples, self._build)
        if batch is None:
            return self.upload_interval_s
        self.counters.posts += 1
        try:
            response = self._client.post(
                INGEST_PATH,
                content=batch.body,
                headers={"Content-Type": "application/json", "Content-Encoding": "gzip"},
            )
        except httpx.HTTPError as exc:
            return self._failed(f"server unreachable: {type(exc).__name__}: {exc}")
        status = response.status_code
        if status == 200:
            return self._acked(batch, response)
        if status in _RETRY_STATUSES:
            wait = parse_retry_after(response.headers.get("Retry-After"))
            fallback = self._failed(f"server busy: HTTP {status}")
            return fallback if wait is None else wait + self._rng.uniform(0, min(1.0, wait / 10))
        if status >= 500 or status in _NOT_YET_STATUSES:
            return self._failed(f"server refused for now: HTTP {status} {response.text[:200]}")
        self._reject(batch, f"HTTP {status} {response.text[:200]}")
        return 0.0

    def _failed(self, reason: str) -> float:
        self.counters.failures += 1
        self.counters.last_error = reason
        if self._outage != reason.split(":")[0]:
            self._outage = reason.split(":")[0]
            _log.warning("upload failed; retrying with backoff", reason=reason)
        return self.backoff_s()

    def _acked(self, batch: PendingBatch, response: httpx.Response) -> float:
        try:
            ack = decode_signal(response.content)
        except DecodeError as exc:
            return self._failed(f"unreadable acknowledgement: {exc}")
        if not isinstance(ack, Ack):
            return self._failed(f"unreadable acknowledgement: expected an ack, got {type(ack).__name__}")
        released = self.buffer.ack(ack.seq)
        self._on_ack(ack)
        if ack.seq < batch.seq:
            return self._failed(f"server acknowledged seq {ack.seq}, not {batch.seq}")
        if self._outage is not None:
            _log.info("uploads flowing again", seq=batch.seq)
            self._outage = None
        self._attempt = 0
        self.counters.acked_batches += 1
        self.counters.acked_samples += released
        self.counters.last_error = None
        stats = self.buffer.stats()
        return (
            0.0 if stats.pending_batches or stats.queued_samples >= self.max_batch_samples else self.upload_interval_s
        )

    def _reject(self, batch: PendingBatch, reason: str) -> None:
        self.counters.rejected_batches += 1
        self.buffer.reject(batch.seq, reason)
        _log.error("server rejected a batch; set aside", seq=batch.seq, samples=batch.n, reason=reason)

    def run(self, stop: threading.Event, *, wake: threading.Event | None = None) -> None:
        """Step until `stop` is set. `wake` cuts a wait short (e.g. the sampler stopped)."""
        while not stop.is_set():
            try:
                wait = self.step()
            except (AgentError, ProtocolError) as exc:  # a full disk, a batch that will not encode
                wait = self._failed(f"cannot prepare a batch: {type(exc).__name__}: {exc}")
            deadline = time.monotonic() + wait
            while not stop.is_set() and (remaining := deadline - time.monotonic()) > 0:
                if wake is not None and wake.wait(min(remaining, 0.1)):
                    wake.clear()
                    break
                if wake is None:
                    stop.wait(min(remaining, 0.1))

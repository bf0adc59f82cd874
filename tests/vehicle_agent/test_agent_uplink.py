"""The uplink against a real local HTTP server: acks, Retry-After, lost answers, refusals, outages."""

import gzip
import random
import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from structlog.testing import capture_logs

from protocol import Ack, Configure, DeviceKey, Sample, StatusReport
from tests.vehicle_agent.ingest_server import Fault, IngestServer
from vehicle_agent import Buffer, Uplink, parse_retry_after


def report() -> StatusReport:
    return StatusReport(config_id=None, sample_rate_hz=10, buffered_samples=0, dropped_samples=0, last_ack_seq=None)


@pytest.fixture
def buffer(tmp_path: Path) -> Iterator[Buffer]:
    with Buffer(tmp_path / "b.sqlite3") as buf:
        for i in range(25):
            buf.add(Sample(1_000_000 + i, speed_kmh=float(i), lat=60 + i / 1000))
        yield buf


def make_uplink(buffer: Buffer, url: str, key: DeviceKey, acks: list[Ack] | None = None) -> Uplink:
    return Uplink(
        server_url=url, buffer=buffer, key=key, agent_version="0.1.0", report=report,
        on_ack=(acks if acks is not None else []).append, upload_interval_s=7.0, max_batch_samples=10,
        timeout_s=2.0, min_backoff_s=0.5, max_backoff_s=4.0, rng=random.Random(1),
    )  # fmt: skip


def test_batches_flow_until_the_buffer_is_empty(buffer: Buffer, ingest: IngestServer, device_key: DeviceKey) -> None:
    acks: list[Ack] = []
    uplink = make_uplink(buffer, ingest.url, device_key, acks)
    waits = [uplink.step() for _ in range(4)]
    uplink.close()
    assert waits == [0.0, 7.0, 7.0, 7.0]  # backlog first, then the upload interval
    assert [s.speed_kmh for s in ingest.samples()] == [float(i) for i in range(25)]
    assert buffer.stats().depth == 0 and ingest.requests == 3
    assert [a.seq for a in acks] == sorted(seq for _, seq in ingest.batches)
    first = ingest.batches[min(ingest.batches)].batch
    assert first.report == report()  # the first batch after a start carries a status report
    assert all(b.batch.report is None for k, b in ingest.batches.items() if k != min(ingest.batches))


def test_retry_after_is_honoured_and_the_same_bytes_resent(
    buffer: Buffer, ingest: IngestServer, device_key: DeviceKey
) -> None:
    ingest.faults.append(Fault(503, {"Retry-After": "3"}))
    uplink = make_uplink(buffer, ingest.url, device_key)
    wait = uplink.step()
    pending = buffer.pending()
    assert 3.0 <= wait <= 3.3 and pending is not None and not ingest.batches
    uplink.step()
    uplink.close()
    assert buffer.pending() is None or buffer.pending() != pending
    stored = ingest.batches[(device_key.address, pending.seq)]
    assert stored.to_wire() == gzip.decompress(pending.body)


def test_lost_acknowledgement_resends_identical_batch(
    buffer: Buffer, ingest: IngestServer, device_key: DeviceKey
) -> None:
    ingest.faults.append(Fault(500, after_store=True))
    ingest.faults.append(Fault(drop=True, after_store=True))
    uplink = make_uplink(buffer, ingest.url, device_key)
    assert 0.25 <= uplink.step() <= 0.5  # first backoff step: 0.5 s with equal jitter
    assert 0.5 <= uplink.step() <= 1.0
    uplink.step()
    uplink.close()
    assert (ingest.duplicates, ingest.conflicts, len(ingest.batches)) == (2, 0, 1)
    assert buffer.stats().depth == 15


def test_unreachable_server_backs_off_and_logs_once(buffer: Buffer, device_key: DeviceKey) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{s.getsockname()[1]}"  # nothing listens once closed
    uplink = make_uplink(buffer, url, device_key)
    with capture_logs() as logs:
        waits = [uplink.step() for _ in range(6)]
    uplink.close()
    steps = [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    assert all(s / 2 <= w <= s for w, s in zip(waits, steps, strict=True))
    assert [e["event"] for e in logs] == ["upload failed; retrying with backoff"]
    assert buffer.stats().depth == 25 and uplink.counters.failures == 6


def test_recovery_is_logged(buffer: Buffer, ingest: IngestServer, device_key: DeviceKey) -> None:
    ingest.faults.extend([Fault(502), Fault(502)])
    uplink = make_uplink(buffer, ingest.url, device_key)
    with capture_logs() as logs:
        for _ in range(3):
            uplink.step()
    uplink.close()
    assert [e["event"] for e in logs] == ["upload failed; retrying with backoff", "uploads flowing again"]


def test_refused_batch_is_set_aside_and_the_queue_moves_on(
    buffer: Buffer, ingest: IngestServer, device_key: DeviceKey
) -> None:
    ingest.faults.extend([Fault(422, body=b'{"detail":"no"}'), Fault(403), Fault(409)])
    uplink = make_uplink(buffer, ingest.url, device_key)
    with capture_logs() as logs:
        assert uplink.step() == 0.0  # 422: refused for good, set aside
        assert uplink.step() > 0.0  # 403: device not registered yet, retried later
        assert uplink.step() == 0.0  # 409: the seq is held with other content, set aside
    uplink.step()
    uplink.close()
    assert buffer.stats().rejected_samples == 20 and len(ingest.batches) == 1
    assert logs[0]["event"] == "server rejected a batch; set aside" and "422" in logs[0]["reason"]


def test_configure_in_the_ack_reaches_the_agent(buffer: Buffer, ingest: IngestServer, device_key: DeviceKey) -> None:
    ingest.pending_config = Configure(config_id=3, sample_rate_hz=2, pids=("SPEED",), upload_interval_s=9)
    acks: list[Ack] = []
    uplink = make_uplink(buffer, ingest.url, device_key, acks)
    uplink.step()
    uplink.close()
    assert acks[0].configure == ingest.pending_config


def test_garbage_acknowledgement_is_a_failure(buffer: Buffer, ingest: IngestServer, device_key: DeviceKey) -> None:
    ingest.faults.append(Fault(200, body=b"<html>proxy login</html>", after_store=True))
    uplink = make_uplink(buffer, ingest.url, device_key)
    uplink.step()
    uplink.close()
    assert "unreadable acknowledgement" in (uplink.counters.last_error or "")
    assert buffer.pending() is not None


@pytest.mark.parametrize(
    ("header", "seconds"),
    [("120", 120.0), ("999999", 3600.0), ("Wed, 25 Nov 2026 12:00:30 GMT", 30.0), ("soon", None), (None, None),
     ("Wed, 25 Nov 2026 11:00:00 GMT", 0.0)],
)  # fmt: skip
def test_parse_retry_after(header: str | None, seconds: float | None) -> None:
    assert parse_retry_after(header, now=datetime(2026, 11, 25, 12, 0, tzinfo=UTC)) == seconds

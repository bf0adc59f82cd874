"""The durable buffer: commit-before-count, batches kept until acked, cap with drop-oldest."""

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from structlog.testing import capture_logs

from protocol import Sample
from vehicle_agent import Buffer, BufferError


@pytest.fixture
def open_buffer(tmp_path: Path) -> Iterator[Callable[..., Buffer]]:
    """Opens buffers in tmp_path (reopening is the point of several tests) and closes them all."""
    opened: list[Buffer] = []

    def _open(name: str = "b.sqlite3", **kwargs: Any) -> Buffer:
        buf = Buffer(tmp_path / name, **kwargs)
        opened.append(buf)
        return buf

    yield _open
    for buf in opened:
        buf.close()  # closing twice is harmless


def sample(i: int) -> Sample:
    return Sample(1_000 + i, lat=60.0 + i * 1e-5, speed_kmh=float(i % 100), satellites=i % 10)


def fill(buf: Buffer, n: int, start: int = 0) -> None:
    for i in range(start, start + n):
        buf.add(sample(i))


def build(seq: int, samples: tuple[Sample, ...]) -> bytes:
    return f"{seq}:{len(samples)}:{samples[0].time_ns}".encode()


def test_sample_survives_reopen_and_wal_mode(open_buffer: Callable[..., Buffer], tmp_path: Path) -> None:
    buf = open_buffer()
    fill(buf, 5)
    buf.close()
    again = open_buffer()
    assert again.stats().queued_samples == 5 and again.stats().taken_samples == 5
    assert again.last_time_ns == 1_004
    assert again._db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert again._db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL


def test_batch_is_stable_until_acked(open_buffer: Callable[..., Buffer], tmp_path: Path) -> None:
    buf = open_buffer()
    fill(buf, 10)
    first = buf.next_batch(4, build)
    assert first is not None and first.n == 4
    # Not acked: the same bytes under the same seq, even after a restart.
    buf.close()
    buf = open_buffer()
    again = buf.next_batch(4, lambda seq, s: b"must not be called")
    assert again == first
    assert buf.ack(first.seq) == 4
    second = buf.next_batch(100, build)
    assert second is not None and second.seq == first.seq + 1 and second.n == 6
    assert second.body == f"{second.seq}:6:1004".encode()
    buf.ack(second.seq)
    assert buf.next_batch(100, build) is None
    stats = buf.stats()
    assert (stats.depth, stats.last_ack_seq, stats.taken_samples) == (0, second.seq, 10)


def test_batch_samples_round_trip_quantised(open_buffer: Callable[..., Buffer], tmp_path: Path) -> None:
    buf = open_buffer()
    buf.add(Sample(5, lat=60.123456789, rpm=1000.1, satellites=7))
    seen: list[tuple[Sample, ...]] = []
    buf.next_batch(10, lambda seq, s: seen.append(s) or b"x")
    assert seen == [(Sample(5, lat=60.1234568, rpm=1000.0, satellites=7),)]


def test_seq_starts_at_creation_time_and_never_goes_back(open_buffer: Callable[..., Buffer], tmp_path: Path) -> None:
    buf = open_buffer()
    first_seq = buf.stats().next_seq
    assert first_seq > 1_700_000_000_000  # milliseconds since the epoch
    buf.ack(first_seq + 50)  # the server holds higher seqs (an earlier life of this device)
    fill(buf, 1)
    batch = buf.next_batch(10, build)
    assert batch is not None and batch.seq == first_seq + 51


def test_cap_drops_oldest_and_counts_persistently(open_buffer: Callable[..., Buffer], tmp_path: Path) -> None:
    buf = open_buffer(max_samples=5)
    fill(buf, 3)
    batch = buf.next_batch(3, build)
    assert batch is not None
    fill(buf, 4, start=3)  # 3 batched + 4 queued > 5: the pending batch (oldest) goes
    stats = buf.stats()
    assert (stats.pending_batches, stats.queued_samples, stats.dropped_samples) == (0, 4, 3)
    fill(buf, 3, start=7)  # 7 queued > 5: the two oldest queued samples go
    buf.close()
    buf = open_buffer(max_samples=5)
    stats = buf.stats()
    assert (stats.queued_samples, stats.dropped_samples, stats.taken_samples) == (5, 5, 10)
    rest = buf.next_batch(10, build)
    assert rest is not None and rest.body.endswith(b":5:1005")  # samples 5..9 survive


def test_full_buffer_is_logged_once(open_buffer: Callable[..., Buffer]) -> None:
    buf = open_buffer(max_samples=2)
    with capture_logs() as logs:
        fill(buf, 10)
    assert [e["event"] for e in logs] == ["buffer full: dropping the oldest samples"]
    assert buf.stats().dropped_samples == 8


def test_reject_sets_a_batch_aside(open_buffer: Callable[..., Buffer], tmp_path: Path) -> None:
    buf = open_buffer()
    fill(buf, 3)
    batch = buf.next_batch(10, build)
    assert batch is not None
    buf.reject(batch.seq, "HTTP 400")
    stats = buf.stats()
    assert (stats.pending_batches, stats.rejected_samples, stats.depth) == (0, 3, 0)


def test_unusable_buffer_file(open_buffer: Callable[..., Buffer], tmp_path: Path) -> None:
    (tmp_path / "b.sqlite3").write_bytes(b"this is not a database" * 100)
    with pytest.raises(BufferError, match="cannot open the buffer"):
        open_buffer()
    with pytest.raises(BufferError, match="at least one"):
        open_buffer("c.sqlite3", max_samples=0)


def test_read_only_view_alongside_a_writer(open_buffer: Callable[..., Buffer], tmp_path: Path) -> None:
    writer = open_buffer()
    fill(writer, 3)
    reader = open_buffer(read_only=True)
    fill(writer, 2, start=3)
    assert reader.stats().queued_samples == 5


def test_full_disk_refuses_the_write_and_keeps_counts(open_buffer: Callable[..., Buffer]) -> None:
    buf = open_buffer()
    fill(buf, 3)
    pages = buf._db.execute("PRAGMA page_count").fetchone()[0]
    buf._db.execute(f"PRAGMA max_page_count = {pages}")  # SQLite's own "database or disk is full"
    with pytest.raises(BufferError, match="full"):
        for i in range(3, 10_000):
            buf.add(sample(i))
    stored = buf.stats()
    assert stored.queued_samples == buf._db.execute("SELECT count(*) FROM samples").fetchone()[0]
    assert stored.taken_samples == stored.queued_samples

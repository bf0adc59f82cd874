"""The durable local buffer: where a sample lives from the moment it is taken until the server
has acknowledged it.

One SQLite file in WAL mode with `synchronous=FULL`, so a committed transaction survives kill -9
and power loss. A sample counts as taken only once its insert has committed. Samples move into
a batch in one transaction (batch row in, sample rows out, next seq bumped), and the batch's
signed, compressed bytes are stored, so a retry after any crash re-sends exactly the same bytes
under the same seq. A batch is deleted only when an `Ack` covers its seq. Every sample is
therefore always in exactly one place: the samples table, a pending batch, or the server.

The cap bounds samples held (queued and batched). Over the cap the oldest go first: the oldest
pending batch, else the oldest queued samples; a persistent counter records how many were dropped.

Sequence numbers start at the creation time in milliseconds, not at 1, so a device whose buffer
file was lost never reuses a seq the server already holds (the server keeps the first batch it
sees under a seq). Seqs are strictly increasing; gaps are normal (dropped batches).
"""

import json
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

import structlog

from protocol import FIELDS, Sample, quantise
from vehicle_agent._errors import BufferError

__all__ = ["Buffer", "BufferStats", "PendingBatch"]

_log = structlog.get_logger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS samples (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    q TEXT NOT NULL  -- JSON list: time_ns, then the FIELDS' wire integers or null
);
CREATE TABLE IF NOT EXISTS batches (
    seq INTEGER PRIMARY KEY,
    n INTEGER NOT NULL,
    body BLOB NOT NULL,  -- gzip of the signed wire body, re-sent unchanged until acked
    created_ns INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS rejected (
    seq INTEGER PRIMARY KEY,
    n INTEGER NOT NULL,
    body BLOB NOT NULL,  -- kept for inspection: the server refused these exact bytes
    reason TEXT NOT NULL,
    rejected_ns INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
"""
_SCALES = list(FIELDS.values())


@dataclass(frozen=True, slots=True)
class PendingBatch:
    """A built batch waiting for its acknowledgement."""

    seq: int
    n: int
    body: bytes


@dataclass(frozen=True, slots=True)
class BufferStats:
    """What `neot agent status` shows about the buffer."""

    queued_samples: int
    batched_samples: int
    pending_batches: int
    dropped_samples: int
    rejected_samples: int
    taken_samples: int
    next_seq: int
    last_ack_seq: int | None
    last_ack_ns: int | None
    max_samples: int

    @property
    def depth(self) -> int:
        """Samples held locally and not yet acknowledged."""
        return self.queued_samples + self.batched_samples


def _row(sample: Sample) -> str:
    return json.dumps([sample.time_ns, *(quantise(name, getattr(sample, name)) for name in FIELDS)])


def _sample(q: str) -> Sample:
    values: list[Any] = json.loads(q)
    return Sample(
        values[0],
        *(
            None if v is None else (v if scale == 1 else v / scale)
            for v, scale in zip(values[1:], _SCALES, strict=True)
        ),
    )


class Buffer:
    """The agent's SQLite buffer. Thread-safe: the sampler and the uplink share one instance.

    `max_samples` caps samples held; `read_only` opens it for `neot agent status` alongside a
    running agent.
    """

    def __init__(self, path: Path, *, max_samples: int = 2_000_000, read_only: bool = False) -> None:
        if max_samples < 1:
            raise BufferError("the buffer cap must be at least one sample")
        self.path = path
        self.max_samples = max_samples
        self._read_only = read_only
        self._lock = threading.Lock()
        try:
            if read_only:
                self._db = sqlite3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
            else:
                path.parent.mkdir(parents=True, exist_ok=True)
                self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        except sqlite3.Error as exc:
            raise BufferError(f"cannot open the buffer {path}: {exc}") from exc
        try:
            if not read_only:
                self._db.execute("PRAGMA journal_mode=WAL")
                self._db.execute("PRAGMA synchronous=FULL")
                self._db.executescript(_SCHEMA)
                self._db.execute(
                    "INSERT OR IGNORE INTO meta VALUES ('next_seq', ?), ('dropped', '0'), ('taken', '0')",
                    (str(time.time_ns() // 1_000_000),),
                )
            self._db.execute("PRAGMA busy_timeout=5000")
            self._queued = self._scalar("SELECT count(*) FROM samples")
            self._batched = self._scalar("SELECT coalesce(sum(n), 0) FROM batches")
        except sqlite3.Error as exc:
            self._db.close()
            raise BufferError(f"cannot open the buffer {path}: {exc}") from exc
        self._full_logged = False

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- helpers -------------------------------------------------------------------------------

    def _scalar(self, sql: str, *args: Any) -> int:
        row = self._db.execute(sql, args).fetchone()
        return int(row[0]) if row and row[0] is not None else 0

    def _meta(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def _set_meta(self, key: str, value: str) -> None:
        self._db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    def _bump(self, key: str, by: int) -> None:
        self._db.execute("UPDATE meta SET value = CAST(value AS INTEGER) + ? WHERE key = ?", (by, key))

    @contextmanager
    def _tx(self) -> Iterator[None]:
        """One IMMEDIATE transaction under the lock; any SQLite failure becomes `BufferError`."""
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                try:
                    yield
                except BaseException:
                    if self._db.in_transaction:  # SQLite has already rolled back after SQLITE_FULL
                        self._db.execute("ROLLBACK")
                    raise
                self._db.execute("COMMIT")
            except sqlite3.Error as exc:
                # Nothing was written; the running counts may have moved inside the transaction.
                self._queued = self._scalar("SELECT count(*) FROM samples")
                self._batched = self._scalar("SELECT coalesce(sum(n), 0) FROM batches")
                raise BufferError(f"buffer write failed ({self.path}): {exc}") from exc

    # --- samples -------------------------------------------------------------------------------

    def add(self, sample: Sample) -> None:
        """Store one sample durably; when this returns, the sample is taken. Over the cap the
        oldest data is dropped (and counted) in the same transaction."""
        row = _row(sample)
        with self._tx():
            self._db.execute("INSERT INTO samples (q) VALUES (?)", (row,))
            self._bump("taken", 1)
            self._set_meta("last_time_ns", str(sample.time_ns))
            self._queued += 1
            dropped = self._enforce_cap()
        if dropped and not self._full_logged:
            self._full_logged = True
            _log.warning("buffer full: dropping the oldest samples", cap=self.max_samples, dropped=dropped)

    def _enforce_cap(self) -> int:
        dropped = 0
        while self._queued + self._batched > self.max_samples:
            oldest = self._db.execute("SELECT seq, n FROM batches ORDER BY seq LIMIT 1").fetchone()
            if oldest is not None:
                self._db.execute("DELETE FROM batches WHERE seq = ?", (oldest[0],))
                self._batched -= oldest[1]
                dropped += oldest[1]
            else:
                excess = self._queued + self._batched - self.max_samples
                self._db.execute(
                    "DELETE FROM samples WHERE id IN (SELECT id FROM samples ORDER BY id LIMIT ?)", (excess,)
                )
                self._queued -= excess
                dropped += excess
        if dropped:
            self._bump("dropped", dropped)
        return dropped

    # --- batches -------------------------------------------------------------------------------

    def pending(self) -> PendingBatch | None:
        """The oldest batch not yet acknowledged."""
        with self._lock:
            row = self._db.execute("SELECT seq, n, body FROM batches ORDER BY seq LIMIT 1").fetchone()
        return None if row is None else PendingBatch(row[0], row[1], bytes(row[2]))

    def next_batch(self, max_samples: int, build: Callable[[int, tuple[Sample, ...]], bytes]) -> PendingBatch | None:
        """The oldest pending batch, else a new one of up to `max_samples` queued samples: `build(seq,
        samples)` returns its body, stored with the move in one transaction. None if nothing is queued."""
        existing = self.pending()
        if existing is not None:
            return existing
        with self._lock:
            rows = self._db.execute("SELECT id, q FROM samples ORDER BY id LIMIT ?", (max_samples,)).fetchall()
            seq = int(self._meta("next_seq") or 0)
        if not rows:
            return None
        samples = tuple(_sample(q) for _, q in rows)
        body = build(seq, samples)
        with self._tx():
            # Only the uplink builds batches, so neither the rows nor next_seq changed meanwhile,
            # except that the cap may have dropped some of the rows: keep the batch honest.
            still = self._scalar("SELECT count(*) FROM samples WHERE id BETWEEN ? AND ?", rows[0][0], rows[-1][0])
            if still != len(rows):
                return None
            self._db.execute("INSERT INTO batches VALUES (?, ?, ?, ?)", (seq, len(rows), body, time.time_ns()))
            self._db.execute("DELETE FROM samples WHERE id BETWEEN ? AND ?", (rows[0][0], rows[-1][0]))
            self._set_meta("next_seq", str(seq + 1))
            self._queued -= len(rows)
            self._batched += len(rows)
        return PendingBatch(seq, len(rows), body)

    def reject(self, seq: int, reason: str) -> None:
        """The server refused batch `seq` for good: move it aside (kept, counted, not re-sent)."""
        with self._tx():
            row = self._db.execute("SELECT n, body FROM batches WHERE seq = ?", (seq,)).fetchone()
            if row is None:
                return
            self._db.execute(
                "INSERT OR REPLACE INTO rejected VALUES (?, ?, ?, ?, ?)", (seq, *row, reason, time.time_ns())
            )
            self._db.execute("DELETE FROM batches WHERE seq = ?", (seq,))
            self._batched -= row[0]

    def ack(self, seq: int) -> int:
        """The server holds every batch up to `seq`: delete them. Returns the samples released."""
        with self._tx():
            released = self._scalar("SELECT coalesce(sum(n), 0) FROM batches WHERE seq <= ?", seq)
            self._db.execute("DELETE FROM batches WHERE seq <= ?", (seq,))
            self._batched -= released
            self._set_meta("last_ack_seq", str(seq))
            self._set_meta("last_ack_ns", str(time.time_ns()))
            next_seq = int(self._meta("next_seq") or 0)
            if seq >= next_seq:
                # The server holds seqs this buffer never issued: never reuse them.
                self._set_meta("next_seq", str(seq + 1))
        return released

    # --- small persistent state ----------------------------------------------------------------

    def get_state(self, key: str) -> Any:
        """A JSON value the agent keeps across restarts (applied configuration, adapter health)."""
        with self._lock:
            raw = self._meta(f"state:{key}")
        return None if raw is None else json.loads(raw)

    def set_state(self, key: str, value: Any) -> None:
        with self._tx():
            self._set_meta(f"state:{key}", json.dumps(value, sort_keys=True))

    @property
    def last_time_ns(self) -> int:
        """Time of the newest sample ever taken (-1 for none): the next must be later."""
        with self._lock:
            return int(self._meta("last_time_ns") or -1)

    def stats(self) -> BufferStats:
        with self._lock:
            last_ack = self._meta("last_ack_seq")
            last_ack_ns = self._meta("last_ack_ns")
            if not self._read_only:  # the one writer's running counts; a reader must count
                queued, batched = self._queued, self._batched
            else:
                queued = self._scalar("SELECT count(*) FROM samples")
                batched = self._scalar("SELECT coalesce(sum(n), 0) FROM batches")
            return BufferStats(
                queued_samples=queued,
                batched_samples=batched,
                pending_batches=self._scalar("SELECT count(*) FROM batches"),
                dropped_samples=int(self._meta("dropped") or 0),
                rejected_samples=self._scalar("SELECT coalesce(sum(n), 0) FROM rejected"),
                taken_samples=int(self._meta("taken") or 0),
                next_seq=int(self._meta("next_seq") or 0),
                last_ack_seq=None if last_ack is None else int(last_ack),
                last_ack_ns=None if last_ack_ns is None else int(last_ack_ns),
                max_samples=self.max_samples,
            )

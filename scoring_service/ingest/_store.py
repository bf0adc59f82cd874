"""Storing one verified batch once per (device, seq): the batch row, its samples in one bulk write,
and the device's highest seq. Shared by the HTTP path and the stream's score workers.

The batch row is inserted with ON CONFLICT DO NOTHING on its (device_id, seq) key, so of any
number of concurrent identical deliveries exactly one inserts and stores samples; the others find
the row and compare its content hash. Samples go in with COPY on PostgreSQL and one executemany
on SQLite, straight through the driver.

Locks, and why two uploads of one device never deadlock on PostgreSQL: the batch row's foreign
key takes FOR KEY SHARE on the device row; the device state is then read FOR NO KEY UPDATE (the
update that follows changes no key column), which does not conflict with KEY SHARE, so two
transactions of one device queue on the device row instead of each waiting for the other's share
lock (FOR UPDATE deadlocked there).

Month partitions (PostgreSQL) are created before the transaction writes, on a connection of
their own (`prepare_partitions`): DDL on `samples` inside the writing transaction would hold
its lock until commit and stall every other upload.
"""

from bisect import bisect_left
from collections.abc import Sequence
from datetime import date, datetime
from functools import cache
from itertools import repeat
from threading import Lock
from typing import Any

import numpy as np
import structlog
from sqlalchemy import Connection, Engine, Update, bindparam, null, select, update
from sqlalchemy.dialects import postgresql, sqlite

from models import Device, UploadBatch, ensure_month_partitions, month_of_ns, month_partition
from protocol import FIELDS, Ack, StatusQuery, ns_from_datetime
from scoring_service.devices import pending_configure, record_status_report
from scoring_service.ingest._decode import COLUMNS, DecodedBatch
from scoring_service.ingest._errors import SeqConflictError
from scoring_service.worker import mark_dirty

__all__ = ["PartitionCache", "batch_months", "store_batch", "stream_ack"]

_log = structlog.get_logger(__name__)

# SQLite scales the wire integers itself (`? / 100.0` is the same IEEE division as Python's
# `v / 100`); PostgreSQL's COPY cannot, so there Python does it.
_SQLITE_INSERT = (
    f"INSERT INTO samples (device_id, seq, {', '.join(COLUMNS)}) VALUES (?, ?, ?, "
    + ", ".join("?" if scale == 1 else f"? / {scale}.0" for scale in FIELDS.values())
    + ")"
)
_PG_COPY = f"COPY samples (device_id, seq, {', '.join(COLUMNS)}) FROM STDIN (FORMAT BINARY)"
_PG_TYPES = ["int8", "int8", "int8"] + ["int8" if scale == 1 else "float8" for scale in FIELDS.values()]

# Statements built once: building and coercing SQLAlchemy constructs per request cost more CPU
# than signature verification. Values are bound per execution.
_STORED_DIGEST = select(UploadBatch.content_sha256).where(
    UploadBatch.device_id == bindparam("device_id"), UploadBatch.seq == bindparam("seq")
)
_STATE = select(Device.last_seq, Device.pending_config, Device.status_query_at, Device.last_sample_ns).where(
    Device.id == bindparam("device_id")
)
_STATE_LOCKED = _STATE.with_for_update(key_share=True)  # FOR NO KEY UPDATE: see the module docstring


@cache
def _device_update(*, newest: bool, config_applied: bool, query_answered: bool) -> Update:
    """The one update of the device row a stored batch makes (eight shapes, each built once).

    Bind names differ from the column names: an execution parameter named like a column would
    join the SET clause even in the shapes that leave that column alone."""
    values: dict[str, Any] = {"last_seq": bindparam("b_last_seq"), "last_seen_at": bindparam("b_now")}
    if newest:
        values |= {
            "last_sample_ns": bindparam("b_last_sample_ns"),
            "last_speed_kmh": bindparam("b_last_speed_kmh"),
            "agent_version": bindparam("b_agent_version"),
        }
    if config_applied:
        values["pending_config"] = null()
    if query_answered:
        values["status_query_at"] = null()
    return update(Device).where(Device.id == bindparam("device_id")).values(values)


_BATCH_VALUES: dict[str, Any] = {
    "device_id": bindparam("device_id"),
    "seq": bindparam("seq"),
    "content_sha256": bindparam("content_sha256"),
    "sample_count": bindparam("sample_count"),
    "received_at": bindparam("received_at"),
}
_INSERT_BATCH = {
    name: dialect_insert(UploadBatch)
    .values(_BATCH_VALUES)
    .on_conflict_do_nothing(index_elements=["device_id", "seq"])
    .returning(UploadBatch.seq)
    for name, dialect_insert in (("postgresql", postgresql.insert), ("sqlite", sqlite.insert))
}


def batch_months(batch: DecodedBatch) -> list[date]:
    """The months the batch's samples fall in (times strictly increase, so a bisection per month)."""
    times: list[int] = batch.columns["time_ns"]  # type: ignore[assignment]  # never null (decoder)
    months, i = [], 0
    while i < len(times):
        part = month_partition(month_of_ns(times[i]))
        months.append(part.month)
        i = bisect_left(times, part.end_ns, i)
    return months


class PartitionCache:
    """The month partitions known to exist, per database, so that ingestion asks PostgreSQL only
    for a month it has not met. `forget` after a write found a partition missing (retention
    dropped it since)."""

    def __init__(self) -> None:
        self._known: set[tuple[str, date]] = set()
        self._lock = Lock()

    def missing(self, engine: Engine, months: list[date]) -> list[date]:
        """Those of `months` not known to have a partition (none on SQLite, which has no partitions)."""
        if engine.dialect.name != "postgresql":
            return []
        key = str(engine.url)
        with self._lock:
            return [m for m in months if (key, m) not in self._known]

    def prepare(self, engine: Engine, months: list[date]) -> None:
        """Make sure `samples` has a partition for each of `months`, on a connection of its own."""
        missing = self.missing(engine, months)
        if not missing:
            return
        key = str(engine.url)
        with engine.begin() as conn:
            conn.exec_driver_sql("SET LOCAL lock_timeout = '10s'")
            ensure_month_partitions(conn, missing)
        with self._lock:
            self._known.update((key, m) for m in missing)
        _log.info("sample partitions ready", months=[f"{m:%Y-%m}" for m in missing])

    def forget(self) -> None:
        """Forget every partition seen: the next write asks PostgreSQL again."""
        with self._lock:
            self._known.clear()


def store_batch(conn: Connection, *, device_id: int, batch: DecodedBatch, now: datetime) -> tuple[Ack, bool]:
    """Store a verified batch of `device_id` unless (device, seq) is stored: the Ack to answer
    with, and whether it was stored now (False: a repeat of a stored one). The caller commits.

    The same transaction records when the device was last heard from and its newest sample's time
    and speed, stores a StatusReport as the device's health, and marks the device dirty for the
    score worker. Raises `SeqConflictError` if the seq is stored with other content.
    """
    digest = batch.digest
    inserted = conn.execute(
        _INSERT_BATCH[conn.dialect.name],
        {
            "device_id": device_id,
            "seq": batch.seq,
            "content_sha256": digest,
            "sample_count": batch.n,
            "received_at": now,
        },
    ).scalar_one_or_none()
    if inserted is None:
        stored = conn.execute(_STORED_DIGEST, {"device_id": device_id, "seq": batch.seq}).scalar_one()
        if stored != digest:
            _log.warning("seq reused with other content", device=batch.device_id, seq=batch.seq)
            raise SeqConflictError(
                f"seq {batch.seq} is stored already with other content; a seq is never reused", field="batch.seq"
            )
        row = conn.execute(_STATE, {"device_id": device_id}).one()
        _log.info("batch repeated", device=batch.device_id, seq=batch.seq)
        query = None if row.status_query_at is None else StatusQuery()
        return Ack(seq=row.last_seq, configure=pending_configure(row.pending_config), query=query), False
    _insert_samples(conn, device_id=device_id, batch=batch)
    mark_dirty(conn, device_id=device_id, now_ns=ns_from_datetime(now))
    # Read under the row lock (PostgreSQL; SQLite's write lock is held since the insert), so a
    # Configure queued meanwhile is never cleared by a report naming an older one.
    row = conn.execute(_STATE_LOCKED, {"device_id": device_id}).one()
    last_seq = max(row.last_seq, batch.seq)
    configure = pending_configure(row.pending_config)
    report = batch.report
    applied = report is not None and configure is not None and report.config_id == configure.config_id
    newest = row.last_sample_ns is None or batch.last_time_ns > row.last_sample_ns
    query_answered = report is not None and row.status_query_at is not None
    conn.execute(
        _device_update(newest=newest, config_applied=applied, query_answered=query_answered),
        {
            "device_id": device_id,
            "b_last_seq": last_seq,
            "b_now": now,
            "b_last_sample_ns": batch.last_time_ns,
            "b_last_speed_kmh": _last_speed_kmh(batch),
            "b_agent_version": batch.agent,
        },
    )
    if report is not None and batch.report_json is not None:
        record_status_report(
            conn,
            device_id=device_id,
            batch_seq=batch.seq,
            agent_version=batch.agent,
            report=report,
            report_json=batch.report_json,
            now=now,
        )
    _log.info("batch stored", device=batch.device_id, seq=batch.seq, samples=batch.n)
    query = None if row.status_query_at is None or query_answered else StatusQuery()
    return Ack(seq=last_seq, configure=None if applied else configure, query=query), True


def _last_speed_kmh(batch: DecodedBatch) -> float | None:
    """The newest sample's speed: OBD-II's, else GPS's; None when it has neither."""
    for name in ("speed_kmh", "gps_speed_kmh"):
        column = batch.columns.get(name)
        if column is not None and column[-1] is not None:
            return column[-1] / FIELDS[name]
    return None


def stream_ack(conn: Connection, *, device_id: int, batch: DecodedBatch) -> tuple[Ack, bool]:
    """For a batch going to the stream instead of the database: the Ack to answer once the stream
    holds it, and whether it is stored already (then nothing needs appending).

    Raises `SeqConflictError` if the seq is stored with other content, as the in-process path does.
    """
    stored = conn.execute(_STORED_DIGEST, {"device_id": device_id, "seq": batch.seq}).scalar_one_or_none()
    if stored is not None and stored != batch.digest:
        raise SeqConflictError(
            f"seq {batch.seq} is stored already with other content; a seq is never reused", field="batch.seq"
        )
    row = conn.execute(_STATE, {"device_id": device_id}).one()
    seq = row.last_seq if stored is not None else max(row.last_seq, batch.seq)
    query = None if row.status_query_at is None else StatusQuery()
    return Ack(seq=seq, configure=pending_configure(row.pending_config), query=query), stored is not None


def _insert_samples(conn: Connection, *, device_id: int, batch: DecodedBatch) -> None:
    """One bulk write straight through the driver: COPY on PostgreSQL, executemany on SQLite."""
    raw: Any = conn.connection.driver_connection
    absent = repeat(None)  # endless, so every absent column may share it
    if conn.dialect.name == "postgresql":
        packed = _binary_rows(device_id, batch)
        with raw.cursor() as cursor, cursor.copy(_PG_COPY) as copy:
            if packed is not None:
                copy.write(packed)
                return
            columns = [batch.columns["time_ns"]] + [
                _scaled(batch.columns[name], scale) if name in batch.columns else absent
                for name, scale in FIELDS.items()
            ]
            copy.set_types(_PG_TYPES)
            for row in zip(repeat(device_id), repeat(batch.seq), *columns, strict=False):
                copy.write_row(row)
        return
    cursor = raw.cursor()
    try:
        columns = [batch.columns.get(name, absent) for name in COLUMNS]
        cursor.executemany(_SQLITE_INSERT, zip(repeat(device_id), repeat(batch.seq), *columns, strict=False))
    finally:
        cursor.close()


# PostgreSQL's binary COPY format: signature, flags, header extension; each row a field count and
# each field its length (-1 for NULL) and big-endian bytes; then -1 as the trailer.
_COPY_HEADER = b"PGCOPY\n\xff\r\n\x00" + bytes(8)
_COPY_TRAILER = b"\xff\xff"


def _binary_rows(device_id: int, batch: DecodedBatch) -> bytes | None:
    """The batch's rows in binary COPY format, built column-wise with numpy (a row at a time in
    Python costs more than everything else ingestion does). None when a column has some readings
    absent and some present: such a batch is written row by row."""
    fields: list[tuple[str, str]] = [("count", ">i2")]
    values: dict[str, np.ndarray[Any, Any]] = {}
    lengths: dict[str, int] = {}
    n = batch.n
    sources: list[tuple[str, list[int | None] | None, str, int]] = [
        ("device_id", None, ">i8", 0),
        ("seq", None, ">i8", 0),
        ("time_ns", batch.columns["time_ns"], ">i8", 1),
    ]
    sources += [
        (name, batch.columns.get(name), ">i8" if scale == 1 else ">f8", scale) for name, scale in FIELDS.items()
    ]
    for name, column, kind, scale in sources:
        fields.append((f"len_{name}", ">i4"))
        if name == "device_id":
            values[name], lengths[name] = np.full(n, device_id, dtype=np.int64), 8
        elif name == "seq":
            values[name], lengths[name] = np.full(n, batch.seq, dtype=np.int64), 8
        elif column is None:
            lengths[name] = -1
            continue
        else:
            if None in column:
                return None
            array = np.array(column, dtype=np.int64)
            values[name], lengths[name] = (array if scale == 1 else array / scale), 8
        fields.append((name, kind))
    rows = np.empty(n, dtype=np.dtype(fields))
    rows["count"] = len(sources)
    for name, length in lengths.items():
        rows[f"len_{name}"] = length
        if length > 0:
            rows[name] = values[name]
    return _COPY_HEADER + rows.tobytes() + _COPY_TRAILER


def _scaled(column: list[int | None], scale: int) -> Sequence[float | int | None]:
    if scale == 1:
        return column
    return [None if v is None else v / scale for v in column]

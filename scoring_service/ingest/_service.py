"""Accepting one signed batch: decode, check, verify against the registered key, store once.

Order of checks, and why: the body is decoded without verifying first, so an unknown device is
told 403 rather than a confusing 401; the device edge's one `authenticate_device` then checks the
signature against the key *we* registered (the batch carries its key too, but a key in the
message proves nothing).

Storage is idempotent per (device, seq): the batch row is inserted with ON CONFLICT DO NOTHING
on the unique (device_id, seq) constraint, so of any number of concurrent identical uploads
exactly one inserts and stores samples; the others find the row, compare its content hash and
answer with the same kind of Ack (or 409 if the content differs). The hash covers the signed
batch object, not the signature: ECDSA signatures are randomised, so an agent that re-signs
the same batch after a restart is still recognised as repeating itself.

Seqs out of order are accepted: an agent back from days offline may send batch 5 after 7 was
stored (it retries its oldest unacknowledged batch, which may reach us late). `Device.last_seq`
is the highest stored seq, and every Ack carries it together with the device's pending
Configure, which stays pending until a batch's StatusReport names its `config_id`, and a pending
StatusQuery, answered by the next StatusReport (which is stored as the device's health). The same
transaction records when the device was last heard from and its newest sample's time and speed,
and marks the device dirty for the score worker.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from itertools import repeat
from typing import Any

import structlog
from sqlalchemy import Connection, Update, bindparam, null, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from models import Device, UploadBatch
from protocol import (
    FIELDS,
    MAX_BODY_BYTES,
    Ack,
    MalformedError,
    OversizeError,
    StatusQuery,
    UnsupportedVersionError,
    ns_from_datetime,
)
from scoring_service.devices import DeviceSignature, authenticate_device, pending_configure, record_status_report
from scoring_service.ingest._decode import COLUMNS, DecodedBatch, decode_batch
from scoring_service.ingest._errors import (
    BodyTooLargeError,
    ImplausibleSampleError,
    MalformedBatchError,
    SeqConflictError,
    StorageBusyError,
)
from scoring_service.monitoring import BATCHES_INGESTED, SAMPLES_INGESTED
from scoring_service.worker import mark_dirty

__all__ = ["IngestLimits", "accept_batch", "decode_body"]

_log = structlog.get_logger(__name__)

# SQLite scales the wire integers itself (`? / 100.0` is the same IEEE division as Python's
# `v / 100`); PostgreSQL's COPY cannot, so there Python does it.
_SQLITE_INSERT = (
    f"INSERT INTO samples (batch_id, device_id, {', '.join(COLUMNS)}) VALUES (?, ?, ?, "
    + ", ".join("?" if scale == 1 else f"? / {scale}.0" for scale in FIELDS.values())
    + ")"
)
_PG_COPY = f"COPY samples (batch_id, device_id, {', '.join(COLUMNS)}) FROM STDIN (FORMAT BINARY)"
_PG_TYPES = ["int8", "int8", "int8"] + ["int8" if scale == 1 else "float8" for scale in FIELDS.values()]
_BOUNDS = {name: round(limit * FIELDS[name]) for name, limit in (("lat", 90), ("lon", 180))}


@dataclass(frozen=True, slots=True)
class IngestLimits:
    """What an upload may be. `max_future_s` tolerates a device clock running ahead of ours
    (GPS time is exact, an RTC without a fix drifts); beyond it a sample cannot be a reading."""

    max_body_bytes: int = MAX_BODY_BYTES
    max_future_s: float = 600.0


def decode_body(body: bytes) -> DecodedBatch:
    """The batch in an (already decompressed) body, signature not yet checked."""
    try:
        return decode_batch(body)
    except OversizeError as exc:
        raise BodyTooLargeError(str(exc)) from exc
    except UnsupportedVersionError as exc:
        raise MalformedBatchError(str(exc), field="batch.v") from exc
    except MalformedError as exc:
        raise MalformedBatchError(str(exc)) from exc


def _check_plausible(batch: DecodedBatch, now: datetime, limits: IngestLimits) -> None:
    ahead_s = (batch.last_time_ns - ns_from_datetime(now)) / 1e9
    if ahead_s > limits.max_future_s:
        raise ImplausibleSampleError(
            f"cols.time_ns: a sample is {ahead_s:.0f} s in the future (limit {limits.max_future_s:.0f} s)",
            field="cols.time_ns",
        )
    for name, bound in _BOUNDS.items():
        column = batch.columns.get(name)
        if column is None:
            continue
        values = [v for v in column if v is not None]
        if values and max(max(values), -min(values)) > bound:
            raise ImplausibleSampleError(
                f"cols.{name}: a value is outside ±{bound // FIELDS[name]} degrees", field=f"cols.{name}"
            )


def accept_batch(
    factory: sessionmaker[Session], body: bytes, *, limits: IngestLimits, now: datetime | None = None
) -> Ack:
    """Check and store the batch in `body` (decompressed JSON); the Ack to answer with.

    Raises a `DeviceEdgeError` (an `IngestError` or an authentication refusal); then nothing was stored.
    """
    now = now or datetime.now(UTC)
    batch = decode_body(body)
    _check_plausible(batch, now, limits)
    try:
        return _accept(factory, batch, now)
    except OperationalError as exc:
        _log.warning("database unavailable for ingestion", error=type(exc.orig).__name__)
        raise StorageBusyError("the database is busy; retry shortly") from exc


# Statements built once: building and coercing SQLAlchemy constructs per request cost more CPU
# than signature verification. Values are bound per execution.
_STORED_DIGEST = select(UploadBatch.content_sha256).where(
    UploadBatch.device_id == bindparam("device_id"), UploadBatch.seq == bindparam("seq")
)
_STATE = select(Device.last_seq, Device.pending_config, Device.status_query_at, Device.last_sample_ns).where(
    Device.id == bindparam("device_id")
)
_STATE_FOR_UPDATE = _STATE.with_for_update()


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
    .returning(UploadBatch.id)
    for name, dialect_insert in (("postgresql", postgresql.insert), ("sqlite", sqlite.insert))
}


def _accept(factory: sessionmaker[Session], batch: DecodedBatch, now: datetime) -> Ack:
    with factory() as session:
        conn = session.connection()
        signed = DeviceSignature(
            address=batch.device_id,
            message=batch.canonical,
            signature=batch.signature,
            public_key=batch.public_key,
            address_field="batch.device",
            signature_field="sig",
            key_field="batch.pub",
        )
        device = authenticate_device(conn, signed)
        ack, stored = _store(conn, device_id=device.id, batch=batch, now=now)
        session.commit()
    if stored:
        BATCHES_INGESTED.inc()
        SAMPLES_INGESTED.inc(batch.n)
    return ack


def _store(conn: Connection, *, device_id: int, batch: DecodedBatch, now: datetime) -> tuple[Ack, bool]:
    """The Ack, and whether this batch was stored now (False: a repeat of a stored one)."""
    digest = batch.digest
    batch_id = conn.execute(
        _INSERT_BATCH[conn.dialect.name],
        {
            "device_id": device_id,
            "seq": batch.seq,
            "content_sha256": digest,
            "sample_count": batch.n,
            "received_at": now,
        },
    ).scalar_one_or_none()
    if batch_id is None:
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
    _insert_samples(conn, batch_id=batch_id, device_id=device_id, batch=batch)
    mark_dirty(conn, device_id=device_id, now_ns=ns_from_datetime(now))
    # Read under the row lock (PostgreSQL; SQLite's write lock is held since the insert), so a
    # Configure queued meanwhile is never cleared by a report naming an older one.
    row = conn.execute(_STATE_FOR_UPDATE, {"device_id": device_id}).one()
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


def _insert_samples(conn: Connection, *, batch_id: int, device_id: int, batch: DecodedBatch) -> None:
    """One bulk write straight through the driver: COPY on PostgreSQL, executemany on SQLite."""
    raw: Any = conn.connection.driver_connection
    absent = repeat(None)  # endless, so every absent column may share it
    if conn.dialect.name == "postgresql":
        columns = [batch.columns["time_ns"]] + [
            _scaled(batch.columns[name], scale) if name in batch.columns else absent for name, scale in FIELDS.items()
        ]
        with raw.cursor() as cursor, cursor.copy(_PG_COPY) as copy:
            copy.set_types(_PG_TYPES)
            for row in zip(repeat(batch_id), repeat(device_id), *columns, strict=False):
                copy.write_row(row)
        return
    cursor = raw.cursor()
    try:
        columns = [batch.columns.get(name, absent) for name in COLUMNS]
        cursor.executemany(_SQLITE_INSERT, zip(repeat(batch_id), repeat(device_id), *columns, strict=False))
    finally:
        cursor.close()


def _scaled(column: list[int | None], scale: int) -> Sequence[float | int | None]:
    if scale == 1:
        return column
    return [None if v is None else v / scale for v in column]

"""Accepting one signed batch: decode, check, verify against the registered key, store once.

Order of checks, and why: the body is decoded without verifying first, so an unknown device is
told 403 rather than a confusing 401; the signature is then checked against the key *we*
registered (the batch carries its key too, but a key in the message proves nothing).

Storage is idempotent per (device, seq): the batch row is inserted with ON CONFLICT DO NOTHING
on the unique (device_id, seq) constraint, so of any number of concurrent identical uploads
exactly one inserts and stores samples; the others find the row, compare its content hash and
answer with the same kind of Ack (or 409 if the content differs). The hash covers the signed
batch object, not the signature: ECDSA signatures are randomised, so an agent that re-signs
the same batch after a restart is still recognised as repeating itself.

Seqs out of order are accepted: an agent back from days offline may send batch 5 after 7 was
stored (it retries its oldest unacknowledged batch, which may reach us late). `Device.last_seq`
is the highest stored seq, and every Ack carries it together with the device's pending
Configure, which stays pending until a batch's StatusReport names its `config_id`.
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from operator import attrgetter
from typing import Any

import structlog
from sqlalchemy import Connection, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from models import Device, UploadBatch
from protocol import (
    FIELDS,
    MAX_BODY_BYTES,
    Ack,
    Batch,
    Configure,
    MalformedError,
    OversizeError,
    SignatureError,
    SignedBatch,
    UnsupportedVersionError,
    decode_signed_batch,
    signal_from_json,
    verify_batch,
)
from scoring_service.ingest._errors import (
    BadSignatureError,
    BodyTooLargeError,
    ImplausibleSampleError,
    MalformedBatchError,
    SeqConflictError,
    UnknownDeviceError,
)

__all__ = ["SAMPLE_COLUMNS", "IngestLimits", "accept_batch", "decode_body", "pending_configure"]

_log = structlog.get_logger(__name__)

#: Sample columns in the order rows are written; `attrgetter` builds each row in C.
SAMPLE_COLUMNS: tuple[str, ...] = ("time_ns", *FIELDS)
_sample_row = attrgetter(*SAMPLE_COLUMNS)
_SQLITE_INSERT = (
    f"INSERT INTO samples (batch_id, device_id, {', '.join(SAMPLE_COLUMNS)}) "
    f"VALUES (?, ?, {', '.join('?' * len(SAMPLE_COLUMNS))})"
)
_PG_COPY = f"COPY samples (batch_id, device_id, {', '.join(SAMPLE_COLUMNS)}) FROM STDIN"


@dataclass(frozen=True, slots=True)
class IngestLimits:
    """What an upload may be. `max_future_s` tolerates a device clock running ahead of ours
    (GPS time is exact, an RTC without a fix drifts); beyond it a sample cannot be a reading."""

    max_body_bytes: int = MAX_BODY_BYTES
    max_future_s: float = 600.0


def decode_body(body: bytes) -> SignedBatch:
    """The signed batch in an (already decompressed) body, signature not yet checked."""
    try:
        return decode_signed_batch(body, verify=False)
    except OversizeError as exc:
        raise BodyTooLargeError(str(exc)) from exc
    except UnsupportedVersionError as exc:
        raise MalformedBatchError(str(exc), field="batch.v") from exc
    except MalformedError as exc:
        raise MalformedBatchError(str(exc)) from exc


def _check_plausible(batch: Batch, now: datetime, limits: IngestLimits) -> None:
    # Times strictly increase (the decoder checks), so the last sample is the latest.
    ahead_s = (batch.samples[-1].time_ns - _ns(now)) / 1e9
    if ahead_s > limits.max_future_s:
        raise ImplausibleSampleError(
            f"cols.time_ns: a sample is {ahead_s:.0f} s in the future (limit {limits.max_future_s:.0f} s)",
            field="cols.time_ns",
        )
    for name, bound in (("lat", 90.0), ("lon", 180.0)):
        values = [v for s in batch.samples if (v := getattr(s, name)) is not None]
        if values and max(max(values), -min(values)) > bound:
            raise ImplausibleSampleError(f"cols.{name}: a value is outside ±{bound:.0f} degrees", field=f"cols.{name}")


def _ns(moment: datetime) -> int:
    return int(moment.timestamp()) * 1_000_000_000 + moment.microsecond * 1000


def accept_batch(
    factory: sessionmaker[Session], body: bytes, *, limits: IngestLimits, now: datetime | None = None
) -> Ack:
    """Check and store the batch in `body` (decompressed JSON); the Ack to answer with.

    Raises an `IngestError` subclass, in which case nothing was stored.
    """
    now = now or datetime.now(UTC)
    signed = decode_body(body)
    batch = signed.batch
    _check_plausible(batch, now, limits)
    with factory() as session:
        device = session.execute(
            select(Device.id, Device.public_key).where(Device.neo_address == batch.device_id)
        ).one_or_none()
        if device is None:
            raise UnknownDeviceError(f"device {batch.device_id} is not registered", field="batch.device")
        if device.public_key != batch.public_key:
            raise BadSignatureError("batch.pub is not the key registered for this device", field="batch.pub")
        try:
            verify_batch(signed)
        except SignatureError as exc:
            raise BadSignatureError(str(exc), field="sig") from exc
        ack = _store(session, device_id=device.id, signed=signed, now=now)
        session.commit()
    return ack


def _store(session: Session, *, device_id: int, signed: SignedBatch, now: datetime) -> Ack:
    batch = signed.batch
    digest = signed.digest
    conn = session.connection()
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    batch_id = conn.execute(
        insert(UploadBatch)
        .values(
            device_id=device_id, seq=batch.seq, content_sha256=digest, sample_count=len(batch.samples), received_at=now
        )
        .on_conflict_do_nothing(index_elements=["device_id", "seq"])
        .returning(UploadBatch.id)
    ).scalar_one_or_none()
    if batch_id is None:
        stored = conn.execute(
            select(UploadBatch.content_sha256).where(UploadBatch.device_id == device_id, UploadBatch.seq == batch.seq)
        ).scalar_one()
        if stored != digest:
            _log.warning("seq reused with other content", device=batch.device_id, seq=batch.seq)
            raise SeqConflictError(
                f"seq {batch.seq} is stored already with other content; a seq is never reused", field="batch.seq"
            )
        row = conn.execute(select(Device.last_seq, Device.pending_config).where(Device.id == device_id)).one()
        _log.info("batch repeated", device=batch.device_id, seq=batch.seq)
        return Ack(seq=row.last_seq, configure=pending_configure(row.pending_config))
    _insert_samples(conn, batch_id=batch_id, device_id=device_id, batch=batch)
    row = conn.execute(
        select(Device.last_seq, Device.pending_config).where(Device.id == device_id).with_for_update()
    ).one()
    last_seq = max(row.last_seq, batch.seq)
    configure = pending_configure(row.pending_config)
    applied = batch.report is not None and configure is not None and batch.report.config_id == configure.config_id
    if last_seq != row.last_seq or applied:
        values: dict[str, Any] = {"last_seq": last_seq}
        if applied:
            values["pending_config"] = None
            configure = None
        conn.execute(update(Device).where(Device.id == device_id).values(**values))
    _log.info("batch stored", device=batch.device_id, seq=batch.seq, samples=len(batch.samples))
    return Ack(seq=last_seq, configure=configure)


def _insert_samples(conn: Connection, *, batch_id: int, device_id: int, batch: Batch) -> None:
    """One bulk write straight through the driver: COPY on PostgreSQL, executemany on SQLite."""
    raw: Any = conn.connection.driver_connection
    if conn.dialect.name == "postgresql":
        with raw.cursor() as cursor, cursor.copy(_PG_COPY) as copy:
            for sample in batch.samples:
                copy.write_row((batch_id, device_id, *_sample_row(sample)))
        return
    cursor = raw.cursor()
    try:
        cursor.executemany(_SQLITE_INSERT, [(batch_id, device_id, *_sample_row(s)) for s in batch.samples])
    finally:
        cursor.close()


def pending_configure(stored: dict[str, Any] | None) -> Configure | None:
    """The Configure kept in `Device.pending_config` (its signal JSON), if any."""
    if stored is None:
        return None
    signal = signal_from_json(stored)
    if not isinstance(signal, Configure):
        raise ValueError(f"devices.pending_config holds a {type(signal).__name__}, not a Configure")
    return signal

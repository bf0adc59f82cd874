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
and marks the device dirty for the score worker (`_store`).
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime

import psycopg
import structlog
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from protocol import (
    FIELDS,
    MAX_BODY_BYTES,
    Ack,
    MalformedError,
    OversizeError,
    UnsupportedVersionError,
    ns_from_datetime,
)
from scoring_service.devices import DeviceSignature, authenticate_device
from scoring_service.ingest._decode import DecodedBatch, decode_batch
from scoring_service.ingest._errors import (
    BodyTooLargeError,
    ImplausibleSampleError,
    MalformedBatchError,
    StorageBusyError,
)
from scoring_service.ingest._store import PartitionCache, batch_months, store_batch, stream_ack
from scoring_service.monitoring import BATCHES_INGESTED, SAMPLES_INGESTED

__all__ = ["IngestLimits", "VerifiedBatch", "accept_batch", "decode_body", "verify_batch"]

_log = structlog.get_logger(__name__)

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


@dataclass(frozen=True, slots=True)
class VerifiedBatch:
    """A batch checked and authenticated for the stream: what to append, and the Ack to answer
    once the stream holds it (at once when `stored`: it is in the database already)."""

    batch: DecodedBatch
    device_id: int
    ack: Ack
    stored: bool


def verify_batch(
    factory: sessionmaker[Session], body: bytes, *, limits: IngestLimits, now: datetime | None = None
) -> VerifiedBatch:
    """Everything `accept_batch` checks, without storing: for appending to the batch stream.

    Raises what `accept_batch` raises.
    """
    batch = decode_body(body)
    _check_plausible(batch, now or datetime.now(UTC), limits)
    try:
        with factory() as session:
            conn = session.connection()
            device = authenticate_device(conn, _signature(batch))
            ack, stored = stream_ack(conn, device_id=device.id, batch=batch)
    except OperationalError as exc:
        _log.warning("database unavailable for ingestion", error=type(exc.orig).__name__)
        raise StorageBusyError("the database is busy; retry shortly") from exc
    return VerifiedBatch(batch=batch, device_id=device.id, ack=ack, stored=stored)


def _signature(batch: DecodedBatch) -> DeviceSignature:
    return DeviceSignature(
        address=batch.device_id,
        message=batch.canonical,
        signature=batch.signature,
        public_key=batch.public_key,
        address_field="batch.device",
        signature_field="sig",
        key_field="batch.pub",
    )


# The month partitions this process knows exist (PostgreSQL).
_PARTITIONS = PartitionCache()


def _accept(factory: sessionmaker[Session], batch: DecodedBatch, now: datetime) -> Ack:
    months = batch_months(batch)
    try:
        return _accept_once(factory, batch, now, months)
    except psycopg.errors.CheckViolation:
        # no partition for a month taken for existing: retention dropped it since; make it again
        _PARTITIONS.forget()
        return _accept_once(factory, batch, now, months)


def _accept_once(factory: sessionmaker[Session], batch: DecodedBatch, now: datetime, months: list[date]) -> Ack:
    with factory() as session:
        conn = session.connection()
        device = authenticate_device(conn, _signature(batch))
        if _PARTITIONS.missing(conn.engine, months):
            # hand this connection back before the DDL takes one: a request never holds two
            session.rollback()
            _PARTITIONS.prepare(conn.engine, months)
            conn = session.connection()
        ack, stored = store_batch(conn, device_id=device.id, batch=batch, now=now)
        session.commit()
    if stored:
        BATCHES_INGESTED.inc()
        SAMPLES_INGESTED.inc(batch.n)
    return ack

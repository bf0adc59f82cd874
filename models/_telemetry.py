"""What devices send and what scoring makes of it: batches, samples, trouble-code reports, trips,
events, trip scores."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, Index, LargeBinary, PrimaryKeyConstraint, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models._base import Base, str_enum, utcnow

__all__ = [
    "DeviceStatusReport",
    "DirtyDevice",
    "EventKind",
    "Sample",
    "Trip",
    "TripEvent",
    "TripScore",
    "TroubleCodeReport",
    "UploadBatch",
]


class UploadBatch(Base):
    """One signed batch as received. (device, seq) is its key: a repeat is never stored twice.

    The key leads with `device_id`, the column Citus would distribute by, so batches and their
    samples of one device live on one shard (see the README's sharding plan).
    """

    __tablename__ = "upload_batches"

    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id"), primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    content_sha256: Mapped[bytes] = mapped_column(LargeBinary(32))
    sample_count: Mapped[int]
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


class Sample(Base):
    """One merged OBD-II + GPS reading. Absent readings are NULL, never zero. SI-ish units in names.

    Keyed by (device, time, seq): times strictly increase within a batch, and `seq` names the
    batch in `upload_batches` by the same (device_id, seq) key. No per-row foreign key: the batch
    row, written in the same transaction, already ties every sample to a registered device, and
    a foreign-key check per row would cap bulk loading. On PostgreSQL the table is partitioned by
    month of `time_ns` (`models.month_partitions`), so retention drops whole partitions.
    """

    __tablename__ = "samples"
    __table_args__ = (
        PrimaryKeyConstraint("device_id", "time_ns", "seq"),
        {"postgresql_partition_by": "RANGE (time_ns)"},
    )

    device_id: Mapped[int] = mapped_column(autoincrement=False)
    time_ns: Mapped[int] = mapped_column(autoincrement=False)
    seq: Mapped[int] = mapped_column(autoincrement=False)
    lat: Mapped[float | None]
    lon: Mapped[float | None]
    gps_speed_kmh: Mapped[float | None]
    heading_deg: Mapped[float | None]
    hdop: Mapped[float | None]
    satellites: Mapped[int | None]
    speed_kmh: Mapped[float | None]
    rpm: Mapped[float | None]
    throttle_pct: Mapped[float | None]
    engine_load_pct: Mapped[float | None]
    coolant_c: Mapped[float | None]
    fuel_pct: Mapped[float | None]
    maf_gs: Mapped[float | None]


class DirtyDevice(Base):
    """A device with samples the score worker has not looked at yet: the work queue of scoring.

    Ingestion upserts the row in the transaction that stores a batch (bumping `generation`, and
    making it due now); the worker scores the device and then deletes the row, or, while a trip is
    still open, moves `due_ns` to when it would count as ended, in both cases only if
    `generation` is still the one it read, so data that arrived meanwhile is never forgotten.
    """

    __tablename__ = "dirty_devices"

    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id"), primary_key=True, autoincrement=False)
    generation: Mapped[int]
    due_ns: Mapped[int] = mapped_column(index=True)


class DeviceStatusReport(Base):
    """A StatusReport a device signed into a batch: its configuration, buffer and adapters' health.

    `report` keeps the signal exactly as sent, so fields a newer agent adds survive; the columns
    beside it are the fields device health shows.
    """

    __tablename__ = "device_status_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id"), index=True)
    batch_seq: Mapped[int]
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    agent_version: Mapped[str] = mapped_column(String(32))
    config_id: Mapped[int | None]
    sample_rate_hz: Mapped[int]
    buffered_samples: Mapped[int]
    dropped_samples: Mapped[int]
    last_ack_seq: Mapped[int | None]
    adapters: Mapped[dict[str, str]] = mapped_column(JSON)
    report: Mapped[dict[str, object]] = mapped_column(JSON)


class TroubleCodeReport(Base):
    """A signed trouble-code report as the device edge accepted it: every code active in the car at
    `sent_ns`. (device, sent_ns) identifies it, so a report retried or raced is stored once."""

    __tablename__ = "trouble_code_reports"
    __table_args__ = (UniqueConstraint("device_id", "sent_ns"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id"))
    sent_ns: Mapped[int]
    codes: Mapped[list[str]] = mapped_column(JSON)
    signature: Mapped[bytes] = mapped_column(LargeBinary(64))
    received_at: Mapped[datetime] = mapped_column(default=utcnow)


class Trip(Base):
    """A contiguous drive of one device, split on stops or data gaps."""

    __tablename__ = "trips"
    # (device, end) serves a device's watermark and its trips ending in a month without a filter step
    __table_args__ = (
        UniqueConstraint("device_id", "start_ns"),
        Index("ix_trips_device_id_end_ns", "device_id", "end_ns"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    device_id: Mapped[int] = mapped_column(ForeignKey("devices.id"))
    start_ns: Mapped[int]
    end_ns: Mapped[int]
    distance_m: Mapped[float]
    duration_s: Mapped[float]
    idle_s: Mapped[float] = mapped_column(default=0.0)
    night_s: Mapped[float] = mapped_column(default=0.0)
    gps_jumps: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class EventKind(StrEnum):
    """Driving events the detectors find."""

    HARSH_BRAKE = "harsh_brake"
    HARSH_ACCEL = "harsh_accel"
    HARSH_CORNER = "harsh_corner"
    SPEEDING = "speeding"


class TripEvent(Base):
    """One detected event with where and when it happened and its peak value."""

    __tablename__ = "trip_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    trip_id: Mapped[int] = mapped_column(ForeignKey("trips.id"), index=True)
    kind: Mapped[EventKind] = mapped_column(str_enum(EventKind))
    start_ns: Mapped[int]
    end_ns: Mapped[int]
    peak: Mapped[float]
    lat: Mapped[float | None]
    lon: Mapped[float | None]


class TripScore(Base):
    """A trip's 0-100 score under one product version, with its readable reasons."""

    __tablename__ = "trip_scores"
    __table_args__ = (UniqueConstraint("trip_id", "product_id", "product_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    trip_id: Mapped[int] = mapped_column(ForeignKey("trips.id"))
    product_id: Mapped[str] = mapped_column(String(64))
    product_version: Mapped[int]
    score: Mapped[int]
    reasons: Mapped[list[dict[str, object]]] = mapped_column(JSON, default=list)
    canonical: Mapped[bytes | None] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

"""Who takes part: insurers, drivers, their vehicles and devices, and repair shops."""

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models._base import Base, utcnow

__all__ = ["Device", "Driver", "Insurer", "RepairShop", "Vehicle"]


class Insurer(Base):
    """An insurance company; its operator account signs charges and escrow releases on chain."""

    __tablename__ = "insurers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    neo_address: Mapped[str] = mapped_column(String(34))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Driver(Base):
    """A policy holder; pays premiums from a NEOT deposit held by the escrow contract."""

    __tablename__ = "drivers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320), unique=True)
    neo_address: Mapped[str | None] = mapped_column(String(34))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    vehicles: Mapped[list["Vehicle"]] = relationship(back_populates="driver")


class Vehicle(Base):
    """A car, identified by its VIN (17 characters, as read over OBD-II mode 09)."""

    __tablename__ = "vehicles"

    id: Mapped[int] = mapped_column(primary_key=True)
    driver_id: Mapped[int] = mapped_column(ForeignKey("drivers.id"), index=True)
    vin: Mapped[str] = mapped_column(String(17), unique=True)
    make: Mapped[str | None] = mapped_column(String(100))
    model: Mapped[str | None] = mapped_column(String(100))
    year: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    driver: Mapped[Driver] = relationship(back_populates="vehicles")
    devices: Mapped[list["Device"]] = relationship(back_populates="vehicle")


class Device(Base):
    """An in-car sensor node. Its id is the NEO N3 address of its secp256r1 public key.

    Ingestion keeps the `last_*` columns current (one row update per batch it stores), so device
    health is read without touching the samples: when the device was last heard from, and the
    time and speed of its newest sample (a car moving at its last sample that then falls silent
    is flagged). `pending_config` and `status_query_at` are the Signals waiting for its next upload.
    """

    __tablename__ = "devices"

    id: Mapped[int] = mapped_column(primary_key=True)
    vehicle_id: Mapped[int] = mapped_column(ForeignKey("vehicles.id"), index=True)
    neo_address: Mapped[str] = mapped_column(String(34), unique=True)
    public_key: Mapped[bytes] = mapped_column(LargeBinary(33), unique=True)
    last_seq: Mapped[int] = mapped_column(default=0)
    pending_config: Mapped[dict[str, object] | None] = mapped_column(JSON)
    #: when a StatusQuery was queued; cleared by the next StatusReport
    status_query_at: Mapped[datetime | None]
    #: when the newest stored batch arrived
    last_seen_at: Mapped[datetime | None]
    last_sample_ns: Mapped[int | None]
    #: speed of the newest sample (OBD-II, else GPS); None when it had neither
    last_speed_kmh: Mapped[float | None]
    #: the agent version named by the newest batch
    agent_version: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    vehicle: Mapped[Vehicle] = relationship(back_populates="devices")


class RepairShop(Base):
    """A provider of repair service; paid through escrow, ranked by its public on-chain record."""

    __tablename__ = "repair_shops"
    __table_args__ = (UniqueConstraint("neo_address"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    neo_address: Mapped[str] = mapped_column(String(34))
    services: Mapped[list[str]] = mapped_column(JSON, default=list)
    capacity: Mapped[int] = mapped_column(default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

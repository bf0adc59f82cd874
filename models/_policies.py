"""Insurance policies and the score epochs anchored on NEO."""

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from models._base import Base, str_enum, utcnow

__all__ = ["EpochState", "Policy", "PolicyStatus", "ScoreEpoch"]


class PolicyStatus(StrEnum):
    """A policy's life: quoted, then active, then ended or cancelled."""

    QUOTED = "quoted"
    ACTIVE = "active"
    ENDED = "ended"
    CANCELLED = "cancelled"


class Policy(Base):
    """A driver's cover for one vehicle under one product version, priced monthly from scores."""

    __tablename__ = "policies"

    id: Mapped[int] = mapped_column(primary_key=True)
    insurer_id: Mapped[int] = mapped_column(ForeignKey("insurers.id"), index=True)
    driver_id: Mapped[int] = mapped_column(ForeignKey("drivers.id"), index=True)
    vehicle_id: Mapped[int] = mapped_column(ForeignKey("vehicles.id"), index=True)
    product_id: Mapped[str] = mapped_column(String(64))
    product_version: Mapped[int]
    period_start: Mapped[date]
    period_end: Mapped[date]
    base_premium: Mapped[int]
    status: Mapped[PolicyStatus] = mapped_column(str_enum(PolicyStatus), default=PolicyStatus.QUOTED)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class EpochState(StrEnum):
    """`open → closed → sent(tx) → confirmed(block)`; a state never goes back."""

    OPEN = "open"
    CLOSED = "closed"
    SENT = "sent"
    CONFIRMED = "confirmed"


class ScoreEpoch(Base):
    """A Merkle tree over committed records; its root goes on chain in one transaction."""

    __tablename__ = "score_epochs"

    id: Mapped[int] = mapped_column(primary_key=True)
    epoch: Mapped[int] = mapped_column(unique=True)
    state: Mapped[EpochState] = mapped_column(str_enum(EpochState), default=EpochState.OPEN)
    root: Mapped[bytes | None] = mapped_column(LargeBinary(32))
    leaf_count: Mapped[int] = mapped_column(default=0)
    tx_hash: Mapped[str | None] = mapped_column(String(66))
    block: Mapped[int | None]
    opened_at: Mapped[datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[datetime | None]

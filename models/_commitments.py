"""Commitments of records to anchored Merkle epochs, and every transaction sent to anchor one.

A commitment is written in the same database transaction as the record it commits (a trip score,
driver score, premium statement or repair payout), so a record never exists without its leaf.
It joins an epoch (`epoch`, `leaf_index`) only when the anchoring service closes that epoch.
"""

from datetime import datetime

from sqlalchemy import ForeignKey, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models._base import Base, utcnow

__all__ = ["AnchorAttempt", "Commitment"]


class Commitment(Base):
    """One leaf: `salt ‖ canonical` hashed into `leaf_hash`, placed in an epoch when it closes.

    `canonical` is the record exactly as committed (canonical JSON with its `type`), so a proof is
    rebuilt from this row (and its epoch's) alone even if the source record's table changes shape later.
    """

    __tablename__ = "commitments"
    __table_args__ = (
        UniqueConstraint("record_type", "record_id"),
        UniqueConstraint("epoch", "leaf_index"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    record_type: Mapped[str] = mapped_column(String(32))
    record_id: Mapped[int]
    canonical: Mapped[bytes] = mapped_column(LargeBinary)
    salt: Mapped[bytes] = mapped_column(LargeBinary(32))
    leaf_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    epoch: Mapped[int | None] = mapped_column(ForeignKey("score_epochs.epoch"), index=True)
    leaf_index: Mapped[int | None]
    #: the leaf's audit path (sibling hashes leaf to root, 32 bytes each), stored when its epoch
    #: closes: a proof is then read, never recomputed
    audit_path: Mapped[bytes | None] = mapped_column(LargeBinary)
    committed_at: Mapped[datetime] = mapped_column(default=utcnow)


class AnchorAttempt(Base):
    """A signed anchor transaction, recorded BEFORE it is broadcast.

    Keeping the raw bytes lets a restarted service re-send exactly the same transaction (same hash,
    so the chain takes it at most once); a new attempt is made only after this one's
    `valid_until_block` has passed without it being included.
    """

    __tablename__ = "anchor_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    epoch: Mapped[int] = mapped_column(ForeignKey("score_epochs.epoch"), index=True)
    tx_hash: Mapped[str] = mapped_column(String(66), unique=True)
    tx_raw: Mapped[bytes] = mapped_column(LargeBinary)
    valid_until_block: Mapped[int]
    network_magic: Mapped[int]
    contract_hash: Mapped[str] = mapped_column(String(42))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

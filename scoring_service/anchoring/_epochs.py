"""Epochs in the database: closing one into a Merkle tree with every leaf's audit path, and how far anchoring lags.

Closing is one database transaction: the pending leaves get their epoch, index and audit path
(stored, so that reading a proof never rebuilds a tree), the epoch gets its root and `closed`
state, and the next epoch is opened. A crash leaves either all of it
or none of it. Leaves are taken in commitment order; a commitment that becomes visible late (a
concurrent transaction) simply joins the next epoch.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from models import Commitment, EpochState, ScoreEpoch
from protocol import MerkleTree

__all__ = ["EpochPolicy", "close_due_epoch", "oldest_unanchored", "open_epoch"]


@dataclass(frozen=True, slots=True)
class EpochPolicy:
    """An epoch closes when its oldest pending leaf is `max_age` old or `max_leaves` are pending."""

    max_age: timedelta = timedelta(minutes=10)
    max_leaves: int = 100_000

    def __post_init__(self) -> None:
        if self.max_leaves < 1 or self.max_age < timedelta(0):
            raise ValueError("an epoch needs max_leaves >= 1 and a non-negative max_age")


def open_epoch(session: Session, *, now: datetime) -> ScoreEpoch:
    """The one open epoch, created (numbered after the newest) if there is none.

    Locked for update on PostgreSQL so two anchoring processes cannot close the same epoch.
    """
    current = session.scalars(
        select(ScoreEpoch).where(ScoreEpoch.state == EpochState.OPEN).with_for_update()
    ).one_or_none()
    if current is None:
        newest = session.scalar(select(func.max(ScoreEpoch.epoch)))
        current = ScoreEpoch(epoch=0 if newest is None else newest + 1, opened_at=now)
        session.add(current)
        session.flush()
    return current


def oldest_unanchored(session: Session) -> datetime | None:
    """When the oldest record not yet in a confirmed anchor was committed (None: all anchored).

    Its age is how far anchoring lags: a record is provable only once its epoch is confirmed."""
    confirmed = select(ScoreEpoch.epoch).where(ScoreEpoch.state == EpochState.CONFIRMED)
    oldest: datetime | None = session.scalar(
        select(func.min(Commitment.committed_at)).where(Commitment.epoch.is_(None) | Commitment.epoch.not_in(confirmed))
    )
    return oldest


def close_due_epoch(session: Session, *, policy: EpochPolicy, now: datetime) -> ScoreEpoch | None:
    """Close the open epoch if the policy says it is due; returns it closed, or None."""
    epoch = open_epoch(session, now=now)
    pending, oldest = session.execute(
        select(func.count(Commitment.id), func.min(Commitment.committed_at)).where(Commitment.epoch.is_(None))
    ).one()
    if pending == 0 or (pending < policy.max_leaves and now - oldest < policy.max_age):
        return None
    rows = session.execute(
        select(Commitment.id, Commitment.leaf_hash)
        .where(Commitment.epoch.is_(None))
        .order_by(Commitment.id)
        .limit(policy.max_leaves)
    ).all()
    tree = MerkleTree([leaf for _, leaf in rows])
    session.execute(
        update(Commitment),
        [
            {"id": row_id, "epoch": epoch.epoch, "leaf_index": i, "audit_path": b"".join(tree.audit_path(i))}
            for i, (row_id, _) in enumerate(rows)
        ],
    )
    epoch.state = EpochState.CLOSED
    epoch.root = tree.root
    epoch.leaf_count = tree.size
    epoch.closed_at = now
    session.add(ScoreEpoch(epoch=epoch.epoch + 1, opened_at=now))
    session.flush()
    return epoch

"""Deleting the raw samples whose retention has run out.

A month of samples expires `keep_after_billing` (90 days by default) after it was billed: after
the newest statement issued for that month, or after the month's end when none was (a month is
billed after it ends, and a device without a policy is never billed). Only `samples` is touched:
evidence that must outlive retention is kept elsewhere.

PostgreSQL drops the month's partition (one short exclusive lock on `samples`, bounded by a lock
timeout so uploads never wait long; a timed-out drop is simply retried next run). SQLite deletes
the month's rows device by device in chunks, committing between them, so uploads interleave.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import structlog
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session

from models import Device, Statement, drop_month_partition, month_of_ns, month_partition, month_partitions

__all__ = ["Purge", "RetentionPolicy", "expired_months", "purge_expired_samples"]

_log = structlog.get_logger(__name__)
_CHUNK_ROWS = 50_000
_FIRST = "SELECT min(time_ns) FROM samples WHERE device_id = :device"
_DELETE_CHUNK = (
    "DELETE FROM samples WHERE rowid IN (SELECT rowid FROM samples"
    " WHERE device_id = :device AND time_ns >= :start AND time_ns < :end LIMIT :chunk)"
)


@dataclass(frozen=True, slots=True)
class RetentionPolicy:
    """How long raw samples outlive the billing of their month."""

    keep_after_billing: timedelta = timedelta(days=90)

    def __post_init__(self) -> None:
        if self.keep_after_billing < timedelta(0):
            raise ValueError("a retention period cannot be negative")


@dataclass(frozen=True, slots=True)
class Purge:
    """What one run deleted: the months that held samples, and the rows where rows are counted (SQLite)."""

    months: tuple[date, ...]
    rows: int | None


def _month_end(month: date) -> datetime:
    return datetime.fromtimestamp(month_partition(month).end_ns // 1_000_000_000, UTC)


def expired_months(session: Session, *, months: list[date], now: datetime, policy: RetentionPolicy) -> list[date]:
    """Those of `months` whose samples have been kept long enough after billing."""
    if not months:
        return []
    billed = dict(
        session.execute(
            select(Statement.period_start, func.max(Statement.issued_at))
            .where(Statement.period_start.in_(months))
            .group_by(Statement.period_start)
        ).all()
    )
    expired = []
    for month in months:
        since = max(_month_end(month), billed.get(month) or _month_end(month))
        if now >= since + policy.keep_after_billing:
            expired.append(month)
    return expired


def purge_expired_samples(engine: Engine, *, now: datetime, policy: RetentionPolicy) -> Purge:
    """Delete every month of samples whose retention has run out; safe to run at any time."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            stored = [p.month for p in month_partitions(conn)]
        with Session(engine) as session:
            expired = expired_months(session, months=stored, now=now, policy=policy)
        for month in expired:
            with engine.begin() as conn:
                conn.exec_driver_sql("SET LOCAL lock_timeout = '5s'")
                drop_month_partition(conn, month)
            _log.info("samples purged", month=f"{month:%Y-%m}", how="partition dropped")
        return Purge(months=tuple(expired), rows=None)
    # SQLite: `samples` is keyed (device, time, seq), so every lookup and delete goes per device
    # through that key rather than scanning the table by time.
    with Session(engine) as session:
        devices = session.scalars(select(Device.id).order_by(Device.id)).all()
        firsts = [session.scalar(text(_FIRST), {"device": d}) for d in devices]
        known = [f for f in firsts if f is not None]
        if not known:
            return Purge(months=(), rows=0)
        last_candidate = month_of_ns(int((now - policy.keep_after_billing).timestamp()) * 1_000_000_000)
        candidates, month = [], month_of_ns(min(known))
        while month <= last_candidate:
            candidates.append(month)
            month = _month_end(month).date()
        expired = expired_months(session, months=candidates, now=now, policy=policy)
    deleted, purged = 0, []
    for month in expired:
        part, before = month_partition(month), deleted
        for device in devices:
            while True:
                with engine.begin() as conn:
                    count = conn.execute(
                        text(_DELETE_CHUNK),
                        {"device": device, "start": part.start_ns, "end": part.end_ns, "chunk": _CHUNK_ROWS},
                    ).rowcount
                deleted += count
                if count < _CHUNK_ROWS:
                    break
        if deleted > before:
            purged.append(month)
            _log.info("samples purged", month=f"{month:%Y-%m}", how="rows deleted", rows=deleted - before)
    return Purge(months=tuple(purged), rows=deleted)

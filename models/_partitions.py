"""The month partitions of `samples` on PostgreSQL: names, bounds, listing, creating, dropping.

`samples` is range-partitioned by `time_ns` (UTC nanoseconds), one partition per calendar month,
so that retention drops a month in one statement instead of deleting its rows one by one, and a
month's reads touch only its partition. SQLite keeps one plain table; these functions are for
PostgreSQL connections only.

A partition is created before rows for its month are written: the migration creates those of the
stored data and the months around now, ingestion creates any other month it meets
(`ensure_month_partitions`), and retention drops the months it has expired.
"""

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import Connection, text

__all__ = [
    "MonthPartition",
    "drop_month_partition",
    "ensure_month_partitions",
    "is_month_partition",
    "month_of_ns",
    "month_partition",
    "month_partitions",
    "months_spanned",
]

_PARENT = "samples"
_NAME = re.compile(rf"^{_PARENT}_p(\d{{4}})_(\d{{2}})$")


@dataclass(frozen=True, slots=True)
class MonthPartition:
    """One month of samples: `[start_ns, end_ns)` in UTC nanoseconds, stored in table `name`."""

    month: date
    name: str
    start_ns: int
    end_ns: int


def _ns(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()) * 1_000_000_000


def _next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def is_month_partition(table_name: str) -> bool:
    """Whether `table_name` is a month partition of `samples` (schema comparisons skip those:
    they are made at run time, not by migrations)."""
    return _NAME.match(table_name) is not None


def month_of_ns(time_ns: int) -> date:
    """The first day of the UTC month holding the instant `time_ns`."""
    moment = datetime.fromtimestamp(time_ns // 1_000_000_000, UTC)
    return date(moment.year, moment.month, 1)


def month_partition(month: date) -> MonthPartition:
    """The partition of the month holding `month` (any day of it)."""
    first = month.replace(day=1)
    return MonthPartition(
        month=first, name=f"{_PARENT}_p{first:%Y_%m}", start_ns=_ns(first), end_ns=_ns(_next_month(first))
    )


def months_spanned(first_ns: int, last_ns: int) -> list[date]:
    """Every month from the one holding `first_ns` to the one holding `last_ns`, in order."""
    month, last = month_of_ns(first_ns), month_of_ns(last_ns)
    out = []
    while month <= last:
        out.append(month)
        month = _next_month(month)
    return out


def month_partitions(conn: Connection) -> list[MonthPartition]:
    """The month partitions `samples` has now (in the connection's search path), oldest first."""
    names = conn.scalars(
        text(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
            " WHERE i.inhparent = CAST(:parent AS regclass)"
        ),
        {"parent": _PARENT},
    ).all()
    found = []
    for name in names:
        match = _NAME.match(name)
        if match is not None:
            found.append(month_partition(date(int(match[1]), int(match[2]), 1)))
    return sorted(found, key=lambda p: p.month)


def ensure_month_partitions(conn: Connection, months: list[date]) -> None:
    """Create the partitions of `months` that do not exist yet (a concurrent creator is harmless).

    DDL on the partitioned table locks it: call this on a connection of its own and commit at
    once, never inside a transaction that goes on writing samples.
    """
    for month in months:
        part = month_partition(month)
        conn.execute(
            text(
                f'CREATE TABLE IF NOT EXISTS "{part.name}" PARTITION OF {_PARENT} '
                f"FOR VALUES FROM ({part.start_ns}) TO ({part.end_ns})"
            )
        )


def drop_month_partition(conn: Connection, month: date) -> None:
    """Drop the partition of `month` with every sample in it."""
    conn.execute(text(f'DROP TABLE IF EXISTS "{month_partition(month).name}"'))

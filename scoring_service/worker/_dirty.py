"""The database as the score worker's work source: the `dirty_devices` table.

Ingestion calls `mark_dirty` in the transaction that stores a batch, so a stored sample is never
without its mark and the worker never scans the samples to find work. `generation` counts the
batches marked; the worker settles a device only if the generation it read is still there.
"""

from collections.abc import Collection

from sqlalchemy import Connection, Insert, bindparam, delete, func, select, true, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from models import DirtyDevice
from scoring_service.worker._source import DueDevice

__all__ = ["DirtyDevices", "mark_dirty"]


def _mark(dialect: str) -> Insert:
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    least = func.least if dialect == "postgresql" else func.min  # SQLite's two-argument min() is scalar
    statement = insert(DirtyDevice).values(device_id=bindparam("device_id"), generation=1, due_ns=bindparam("now_ns"))
    return statement.on_conflict_do_update(
        index_elements=[DirtyDevice.device_id],
        set_={
            "generation": DirtyDevice.generation + 1,
            "due_ns": least(DirtyDevice.due_ns, statement.excluded.due_ns),
        },
    )


# Built once per dialect: ingestion marks a device with every batch it stores.
_MARK = {name: _mark(name) for name in ("postgresql", "sqlite")}


def mark_dirty(conn: Connection, *, device_id: int, now_ns: int) -> None:
    """Note in the caller's transaction that `device_id` has new samples: due for scoring now."""
    conn.execute(_MARK[conn.dialect.name], {"device_id": device_id, "now_ns": now_ns})


class DirtyDevices:
    """`WorkSource` over the `dirty_devices` table; the token is the generation read.

    With `shards` (count, owned), only devices whose id modulo count is one of `owned`: the
    devices this worker owns when several share the work (the batch stream's shards, too)."""

    def __init__(self, sessions: sessionmaker[Session], *, shards: tuple[int, Collection[int]] | None = None) -> None:
        self._sessions = sessions
        self._mine = true() if shards is None else (DirtyDevice.device_id % shards[0]).in_(sorted(shards[1]))

    def take(self, *, limit: int, now_ns: int) -> list[DueDevice]:
        with self._sessions() as session:
            rows = session.execute(
                select(DirtyDevice.device_id, DirtyDevice.generation)
                .where(DirtyDevice.due_ns <= now_ns, self._mine)
                .order_by(DirtyDevice.due_ns, DirtyDevice.device_id)
                .limit(limit)
            ).all()
        return [DueDevice(device_id=row.device_id, token=row.generation) for row in rows]

    def finish(self, item: DueDevice, *, revisit_at_ns: int | None) -> None:
        same = (DirtyDevice.device_id == item.device_id) & (DirtyDevice.generation == item.token)
        with self._sessions() as session:
            if revisit_at_ns is None:
                session.execute(delete(DirtyDevice).where(same))
            else:
                session.execute(update(DirtyDevice).where(same).values(due_ns=revisit_at_ns))
            session.commit()

    def backlog(self, *, now_ns: int) -> int:
        with self._sessions() as session:
            return int(session.scalar(select(func.count()).where(DirtyDevice.due_ns <= now_ns, self._mine)) or 0)

"""Which access tokens are void although unexpired, known without a query per request.

Disabling an account writes a `CredentialRevocation` row in the same transaction. Every API process
keeps the rows of the last token lifetime in memory (a token older than that has expired anyway)
and re-reads them every poll (`NEOT_REVOCATION_POLL_S`, one second by default) on a worker thread;
a token is refused when its user has a revocation at or after the second it was issued. A process
that revokes applies it to its own list at once; the others within one poll.

Rows are re-read whole each poll rather than "since the last id": ids of concurrent transactions
become visible out of order, and the window holds only the revocations of one token lifetime.
"""

from datetime import UTC, datetime, timedelta
from threading import Lock

import anyio
import structlog
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from models import CredentialRevocation

__all__ = ["RevocationList", "poll_revocations"]

_log = structlog.get_logger(__name__)

# Clocks of the processes that issue tokens and of those that revoke them may differ this much.
_SKEW = timedelta(seconds=5)


class RevocationList:
    """Users whose tokens issued at or before a moment are void (`voids`), refreshed by `refresh`."""

    def __init__(self, token_ttl_s: int) -> None:
        self._window = timedelta(seconds=token_ttl_s) + _SKEW
        self._voided: dict[int, float] = {}
        self._loaded = False
        self._lock = Lock()

    @property
    def loaded(self) -> bool:
        """Whether the list was ever read: before that, every token is refused (fail closed)."""
        return self._loaded

    def refresh(self, session: Session, *, now: datetime | None = None) -> None:
        """Re-read the revocations of the last token lifetime (one small query)."""
        since = (now or datetime.now(UTC)) - self._window
        rows = session.execute(
            select(CredentialRevocation.user_id, func.max(CredentialRevocation.revoked_at))
            .where(CredentialRevocation.revoked_at >= since)
            .group_by(CredentialRevocation.user_id)
        ).all()
        fresh = {user_id: at.timestamp() for user_id, at in rows}
        with self._lock:
            # keep what this process noted itself but cannot see yet (its transaction may be newer)
            for user_id, at in self._voided.items():
                if at > fresh.get(user_id, 0.0) and at >= since.timestamp():
                    fresh[user_id] = at
            self._voided = fresh
            self._loaded = True

    def note(self, user_id: int, revoked_at: datetime) -> None:
        """Apply a revocation this process has just committed, before the next poll sees it."""
        with self._lock:
            self._voided[user_id] = max(self._voided.get(user_id, 0.0), revoked_at.timestamp())

    def voids(self, user_id: int, issued_at: int) -> bool:
        """Whether a token of `user_id` issued at `issued_at` (UTC seconds) has been revoked."""
        if not self._loaded:
            return True
        at = self._voided.get(user_id)
        return at is not None and issued_at <= at + _SKEW.total_seconds()


def _refresh(revocations: RevocationList, factory: sessionmaker[Session]) -> None:
    with factory() as session:
        revocations.refresh(session)


async def poll_revocations(revocations: RevocationList, factory: sessionmaker[Session], *, interval_s: float) -> None:
    """Refresh `revocations` every `interval_s` on a worker thread, until cancelled. A failed read
    is logged and retried; the list keeps what it knew."""
    while True:
        try:
            await anyio.to_thread.run_sync(_refresh, revocations, factory)
        except SQLAlchemyError as exc:
            _log.warning("revocations unreadable", error=type(exc).__name__)
        await anyio.sleep(interval_s)

"""`Idempotency-Key` for money-moving POSTs: same key and body → the same answer, done once.

The first request with a (principal, key) pair inserts a `running` row (the unique constraint
decides the race between concurrent retries), does the work and stores its status and body.
Later requests with the same key:

- and a different body (method, path and canonical JSON) → `IdempotencyKeyReusedError` (422);
- while the first still runs → wait for its answer up to `WAIT_S`, then `RequestInProgressError` (409);
- once it is done → its stored answer, byte for byte.

If the first request dies without an answer (a crash, an unexpected error) its row is removed, or,
after a crash, taken over once it is `STALE_AFTER` old, so a retry runs the work again. That is
safe because the work itself is idempotent underneath: every payment has its own business key.
"""

import hashlib
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from insurer_api.payments._errors import IdempotencyKeyReusedError, RequestInProgressError
from models import IdempotentRequest, RequestState, utcnow

__all__ = ["STALE_AFTER", "WAIT_S", "StoredResponse", "idempotent", "request_fingerprint"]

WAIT_S = 30.0
STALE_AFTER = timedelta(minutes=2)


@dataclass(frozen=True, slots=True)
class StoredResponse:
    """An answer to replay: `replayed` is False for the request that did the work."""

    status_code: int
    body: dict[str, Any]
    replayed: bool


def request_fingerprint(*, method: str, path: str, body: Mapping[str, Any] | None) -> bytes:
    """SHA-256 of the request's meaning: whitespace and key order in the JSON do not count."""
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{method.upper()} {path}\n{canonical}".encode()).digest()


def _claim(session: Session, *, principal: str, key: str, fingerprint: bytes) -> StoredResponse | None:
    """None when this caller now owns the key; otherwise the stored answer to replay."""
    deadline = time.monotonic() + WAIT_S
    while True:
        try:
            session.add(IdempotentRequest(principal=principal, key=key, request_sha256=fingerprint))
            session.commit()
            return None
        except IntegrityError:
            session.rollback()
        row = session.scalar(
            select(IdempotentRequest).where(IdempotentRequest.principal == principal, IdempotentRequest.key == key)
        )
        if row is None:
            continue  # the owner gave up between our insert and our read: try to own it
        if row.request_sha256 != fingerprint:
            raise IdempotencyKeyReusedError(
                f"Idempotency-Key {key!r} was already used with a different request; use a new key"
            )
        if row.state is RequestState.DONE:
            if row.status_code is None or row.response is None:
                raise RuntimeError(f"idempotent request {row.id} is done but has no stored answer")
            return StoredResponse(row.status_code, dict(row.response), replayed=True)
        if row.created_at < utcnow() - STALE_AFTER:
            took = session.execute(
                update(IdempotentRequest)
                .where(
                    IdempotentRequest.id == row.id,
                    IdempotentRequest.created_at == row.created_at,
                    IdempotentRequest.state == RequestState.RUNNING,
                )
                .values(created_at=utcnow())
            )
            session.commit()
            if took.rowcount == 1:  # type: ignore[attr-defined]
                return None
        if time.monotonic() > deadline:
            raise RequestInProgressError(f"a request with Idempotency-Key {key!r} is still running; retry later")
        session.expire_all()
        time.sleep(0.05)


def idempotent(
    session: Session,
    *,
    principal: str,
    key: str,
    fingerprint: bytes,
    work: Callable[[], tuple[int, dict[str, Any]]],
    is_final_error: Callable[[Exception], tuple[int, dict[str, Any]] | None],
) -> StoredResponse:
    """Run `work` once per (principal, key) and remember its answer.

    `is_final_error` turns an exception into a stored answer (a 4xx the client caused, which a
    retry would only repeat) or returns None for errors a retry might not meet again; those
    release the key and propagate.
    """
    replay = _claim(session, principal=principal, key=key, fingerprint=fingerprint)
    if replay is not None:
        return replay
    try:
        status_code, body = work()
    except Exception as exc:
        session.rollback()
        final = is_final_error(exc)
        if final is None:
            session.execute(
                delete(IdempotentRequest).where(IdempotentRequest.principal == principal, IdempotentRequest.key == key)
            )
            session.commit()
            raise
        status_code, body = final
    session.execute(
        update(IdempotentRequest)
        .where(IdempotentRequest.principal == principal, IdempotentRequest.key == key)
        .values(state=RequestState.DONE, status_code=status_code, response=body)
    )
    session.commit()
    return StoredResponse(status_code, body, replayed=False)

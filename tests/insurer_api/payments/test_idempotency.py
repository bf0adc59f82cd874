"""The Idempotency-Key store on both databases: replay, refusal of a changed body, release of a
key whose work failed for a reason a retry may not meet, and answers for concurrent retries."""

import threading
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import update

from insurer_api.payments import IdempotencyKeyReusedError
from insurer_api.payments._idempotency import idempotent, request_fingerprint
from models import IdempotentRequest, make_engine, make_session_factory, utcnow


@pytest.fixture
def factory(migrated_url: str) -> Any:
    engine = make_engine(migrated_url)
    yield make_session_factory(engine)
    engine.dispose()


def _fp(body: dict[str, Any]) -> bytes:
    return request_fingerprint(method="post", path="/v1/x", body=body)


def _never_final(_exc: Exception) -> None:
    return None


def test_same_key_same_body_replays_and_different_body_is_refused(factory: Any) -> None:
    calls: list[int] = []

    def work() -> tuple[int, dict[str, Any]]:
        calls.append(1)
        return 201, {"n": len(calls)}

    with factory() as session:
        first = idempotent(
            session, principal="u1", key="k", fingerprint=_fp({"a": 1, "b": 2}), work=work, is_final_error=_never_final
        )
        again = idempotent(
            session, principal="u1", key="k", fingerprint=_fp({"b": 2, "a": 1}), work=work, is_final_error=_never_final
        )
        assert (first.status_code, first.body, first.replayed) == (201, {"n": 1}, False)
        assert (again.status_code, again.body, again.replayed) == (201, {"n": 1}, True)
        with pytest.raises(IdempotencyKeyReusedError, match="different request"):
            idempotent(
                session, principal="u1", key="k", fingerprint=_fp({"a": 2}), work=work, is_final_error=_never_final
            )
        other = idempotent(
            session, principal="u2", key="k", fingerprint=_fp({"a": 2}), work=work, is_final_error=_never_final
        )
        assert other.body == {"n": 2}  # keys belong to their principal
    assert len(calls) == 2


def test_failed_work_releases_the_key_and_a_client_error_is_stored(factory: Any) -> None:
    def boom() -> tuple[int, dict[str, Any]]:
        raise ConnectionError("node down")

    def refused() -> tuple[int, dict[str, Any]]:
        raise ValueError("bad amount")

    def as_422(exc: Exception) -> tuple[int, dict[str, Any]] | None:
        return (422, {"detail": str(exc)}) if isinstance(exc, ValueError) else None

    with factory() as session:
        with pytest.raises(ConnectionError):
            idempotent(session, principal="u", key="k1", fingerprint=_fp({}), work=boom, is_final_error=as_422)
        retry = idempotent(
            session,
            principal="u",
            key="k1",
            fingerprint=_fp({}),
            work=lambda: (200, {"ok": True}),
            is_final_error=as_422,
        )
        assert (retry.status_code, retry.body, retry.replayed) == (200, {"ok": True}, False)
        first = idempotent(session, principal="u", key="k2", fingerprint=_fp({}), work=refused, is_final_error=as_422)
        second = idempotent(
            session, principal="u", key="k2", fingerprint=_fp({}), work=lambda: (200, {}), is_final_error=as_422
        )
        assert (first.status_code, second.status_code, second.body) == (422, 422, {"detail": "bad amount"})


def test_a_crashed_owner_is_taken_over_once_stale(factory: Any) -> None:
    with factory() as session:
        session.add(IdempotentRequest(principal="u", key="k", request_sha256=_fp({})))
        session.commit()
        session.execute(update(IdempotentRequest).values(created_at=utcnow() - timedelta(hours=1)))
        session.commit()
        answer = idempotent(
            session,
            principal="u",
            key="k",
            fingerprint=_fp({}),
            work=lambda: (200, {"x": 1}),
            is_final_error=_never_final,
        )
        assert (answer.body, answer.replayed) == ({"x": 1}, False)


def test_concurrent_retries_get_the_first_answer(factory: Any) -> None:
    started, release = threading.Event(), threading.Event()
    runs: list[int] = []
    answers: list[Any] = []

    def slow() -> tuple[int, dict[str, Any]]:
        runs.append(1)
        started.set()
        release.wait(10)
        return 201, {"id": 7}

    def call() -> None:
        with factory() as session:
            answers.append(
                idempotent(session, principal="u", key="k", fingerprint=_fp({}), work=slow, is_final_error=_never_final)
            )

    owner = threading.Thread(target=call)
    owner.start()
    assert started.wait(10)
    waiters = [threading.Thread(target=call) for _ in range(4)]
    for t in waiters:
        t.start()
    release.set()
    for t in [owner, *waiters]:
        t.join(30)
    assert len(runs) == 1
    got = sorted((a.status_code, a.body["id"], a.replayed) for a in answers)
    assert got == [(201, 7, False)] + [(201, 7, True)] * 4

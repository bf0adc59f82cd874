"""Commitments, epoch closing and proof building on real SQLite and PostgreSQL (no chain here)."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from models import AnchorAttempt, Commitment, EpochState, ScoreEpoch, make_engine, make_session_factory, session_scope
from protocol import EncodeError, Proof, RecordType, verify_inclusion
from scoring_service.anchoring import (
    CommitmentConflict,
    EpochIntegrityError,
    EpochPolicy,
    RecordNotCommitted,
    build_proof,
    build_proofs,
    close_due_epoch,
    commit_record,
)

T0 = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)


@pytest.fixture
def sessions(migrated_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(migrated_url)
    yield make_session_factory(engine)
    engine.dispose()


def _score(trip_id: int, score: int = 80) -> dict[str, object]:
    return {"type": "trip_score", "trip_id": trip_id, "score": score}


def _commit_scores(sessions: sessionmaker[Session], ids: range, at: datetime = T0) -> None:
    with session_scope(sessions) as session:
        for i in ids:
            commit_record(session, record_type=RecordType.TRIP_SCORE, record_id=i, record=_score(i))
        session.execute(update(Commitment).values(committed_at=at))


def test_epoch_closes_on_leaf_count_and_age_and_numbers_consecutively(sessions: sessionmaker[Session]) -> None:
    policy = EpochPolicy(max_age=timedelta(minutes=10), max_leaves=4)
    _commit_scores(sessions, range(1, 4))
    with session_scope(sessions) as session:
        assert close_due_epoch(session, policy=policy, now=T0 + timedelta(minutes=9)) is None
    _commit_scores(sessions, range(4, 11))  # 10 pending now
    closed = []
    with session_scope(sessions) as session:
        while (epoch := close_due_epoch(session, policy=policy, now=T0 + timedelta(minutes=1))) is not None:
            closed.append((epoch.epoch, epoch.leaf_count, epoch.state))
    assert closed == [(0, 4, EpochState.CLOSED), (1, 4, EpochState.CLOSED)]
    with session_scope(sessions) as session:  # two left: due only by age
        assert close_due_epoch(session, policy=policy, now=T0 + timedelta(minutes=9)) is None
        last = close_due_epoch(session, policy=policy, now=T0 + timedelta(minutes=10))
        assert last is not None and (last.epoch, last.leaf_count) == (2, 2)
        assert close_due_epoch(session, policy=policy, now=T0 + timedelta(hours=5)) is None
        states = session.execute(select(ScoreEpoch.epoch, ScoreEpoch.state).order_by(ScoreEpoch.epoch)).all()
        indices = session.execute(
            select(Commitment.record_id, Commitment.epoch, Commitment.leaf_index).order_by(Commitment.record_id)
        ).all()
    assert [tuple(s) for s in states] == [(0, "closed"), (1, "closed"), (2, "closed"), (3, "open")]
    assert [tuple(i) for i in indices][:5] == [(1, 0, 0), (2, 0, 1), (3, 0, 2), (4, 0, 3), (5, 1, 0)]
    assert [tuple(i) for i in indices][-1] == (10, 2, 1)


def test_commit_is_idempotent_and_refuses_changes(sessions: sessionmaker[Session]) -> None:
    with session_scope(sessions) as session:
        first = commit_record(session, record_type=RecordType.TRIP_SCORE, record_id=1, record=_score(1))
        again = commit_record(session, record_type=RecordType.TRIP_SCORE, record_id=1, record=_score(1))
        assert (again.id, again.salt) == (first.id, first.salt)
        with pytest.raises(CommitmentConflict, match="other content"):
            commit_record(session, record_type=RecordType.TRIP_SCORE, record_id=1, record=_score(1, 81))
        with pytest.raises(CommitmentConflict, match="type 'trip_score'"):
            commit_record(session, record_type=RecordType.DRIVER_SCORE, record_id=1, record=_score(1))
        with pytest.raises(EncodeError, match="floats"):
            commit_record(
                session, record_type=RecordType.TRIP_SCORE, record_id=2, record={"type": "trip_score", "x": 1.5}
            )


def test_proofs_are_pending_then_verify_offline_for_every_record_type(sessions: sessionmaker[Session]) -> None:
    records = {
        RecordType.TRIP_SCORE: {"type": "trip_score", "trip_id": 1, "score": 77},
        RecordType.DRIVER_SCORE: {"type": "driver_score", "driver_id": 1, "score": 90},
        RecordType.PREMIUM_STATEMENT: {"type": "premium_statement", "statement_id": 1, "premium": 12_300_000_000},
        RecordType.REPAIR_PAYOUT: {"type": "repair_payout", "job_id": 1, "shop_amount": 9_500_000_000},
    }
    with session_scope(sessions) as session:
        for kind, record in records.items():
            commit_record(session, record_type=kind, record_id=1, record=record)
        pending = build_proof(session, record_type=RecordType.DRIVER_SCORE, record_id=1)
        assert pending.inclusion is None and pending.to_json()["state"] == "pending"
        with pytest.raises(RecordNotCommitted, match="no committed trip_score with id 2"):
            build_proof(session, record_type=RecordType.TRIP_SCORE, record_id=2)
        close_due_epoch(session, policy=EpochPolicy(max_leaves=4), now=T0)
    with session_scope(sessions) as session:
        for index, (kind, record) in enumerate(records.items()):
            proof = build_proof(session, record_type=kind, record_id=1)
            assert proof.record == record and proof.anchor is None
            inclusion = verify_inclusion(Proof.from_json(proof.to_json()))
            assert (inclusion.epoch, inclusion.leaf_index, inclusion.tree_size) == (0, index, 4)


def test_an_altered_record_is_refused_when_building_its_proof(sessions: sessionmaker[Session]) -> None:
    """Paths are stored at close, not recomputed: a proof is still checked against its epoch's
    root before it is served, so a record, salt or path changed since is refused, not proven."""
    _commit_scores(sessions, range(1, 6))
    with session_scope(sessions) as session:
        close_due_epoch(session, policy=EpochPolicy(max_leaves=5), now=T0)
        session.execute(update(Commitment).where(Commitment.record_id == 3).values(salt=bytes(32)))
        session.execute(update(Commitment).where(Commitment.record_id == 4).values(audit_path=bytes(31)))
    with session_scope(sessions) as session:
        with pytest.raises(EpochIntegrityError, match="no longer leads to the root of epoch 0"):
            build_proof(session, record_type=RecordType.TRIP_SCORE, record_id=3)
        with pytest.raises(EpochIntegrityError, match="not whole hashes"):
            build_proof(session, record_type=RecordType.TRIP_SCORE, record_id=4)
        untouched = build_proof(session, record_type=RecordType.TRIP_SCORE, record_id=1)
        assert verify_inclusion(untouched).leaf_index == 0
        batch = build_proofs(session, record_type=RecordType.TRIP_SCORE, record_ids=[1, 2, 5, 99])
        assert sorted(batch) == [1, 2, 5]  # 99 is not committed


TX, CONTRACT = "0x" + "11" * 32, "0x" + "22" * 20


def test_bulk_proof_documents_equal_single_proofs_pending_closed_and_anchored(sessions: sessionmaker[Session]) -> None:
    _commit_scores(sessions, range(1, 4))
    with session_scope(sessions) as session:
        close_due_epoch(session, policy=EpochPolicy(max_leaves=3), now=T0)
    _commit_scores(sessions, range(4, 5))  # committed, in no epoch yet
    with session_scope(sessions) as session:
        single = {i: build_proof(session, record_type=RecordType.TRIP_SCORE, record_id=i).to_json() for i in (1, 4)}
        assert build_proofs(session, record_type=RecordType.TRIP_SCORE, record_ids=[1, 4]) == single
        assert single[4]["state"] == "pending" and single[1]["state"] == "pending" and single[1]["epoch"] == 0
        session.add(
            AnchorAttempt(
                epoch=0,
                tx_hash="0x" + "11" * 32,
                tx_raw=b"tx",
                valid_until_block=9,
                network_magic=42,
                contract_hash="0x" + "22" * 20,
            )
        )
        epoch = session.scalars(select(ScoreEpoch).where(ScoreEpoch.epoch == 0)).one()
        epoch.state, epoch.tx_hash, epoch.block = EpochState.CONFIRMED, TX, 7
    with session_scope(sessions) as session:
        anchored = build_proof(session, record_type=RecordType.TRIP_SCORE, record_id=2).to_json()
        assert anchored["anchor"] == {
            "network_magic": 42,
            "contract": "0x" + "22" * 20,
            "tx": "0x" + "11" * 32,
            "block": 7,
        }
        assert build_proofs(session, record_type=RecordType.TRIP_SCORE, record_ids=[2]) == {2: anchored}

"""Anchoring against a real neo-go node: roots on chain equal local roots, and proofs of every
record type verify with the independent verifier; tampered proofs fail with the right reason."""

import asyncio
import copy
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import jsonschema
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from insurer_api.proofs.routes import PROOF_SCHEMA
from models import AnchorAttempt, EpochState, ScoreEpoch, make_engine, make_session_factory, session_scope
from neot._verifier import verify_against_node
from protocol import FailureReason, MalformedProofError, RecordType, VerificationError
from scoring_service.anchoring import EpochPolicy, build_proof, commit_record
from scoring_service.anchoring.service import AnchorChain, Anchorer, Progress
from tests.chain_fixtures import DeployedChain

pytestmark = [pytest.mark.chain, pytest.mark.xdist_group("neo")]

RECORDS: dict[RecordType, dict[str, Any]] = {
    RecordType.TRIP_SCORE: {"type": "trip_score", "trip_id": 1, "score": 77, "product": "phyd@1"},
    RecordType.DRIVER_SCORE: {"type": "driver_score", "driver_id": 1, "score": 90, "month": "2026-10"},
    RecordType.PREMIUM_STATEMENT: {"type": "premium_statement", "statement_id": 1, "premium": 12_300_000_000},
    RecordType.REPAIR_PAYOUT: {"type": "repair_payout", "job_id": 1, "shop_amount": 9_500_000_000},
}


@pytest.fixture
def sessions(sqlite_url: str) -> Iterator[sessionmaker[Session]]:
    import migrations

    migrations.upgrade(sqlite_url)
    engine = make_engine(sqlite_url)
    yield make_session_factory(engine)
    engine.dispose()


def anchor_chain(chain: DeployedChain, **kwargs: Any) -> AnchorChain:
    return AnchorChain(
        chain.deployment.rpc_url,
        contract=chain.deployment.contracts.anchor,
        signer=chain.account("anchorer"),
        **kwargs,
    )


async def run_until_confirmed(anchorer: Anchorer, epochs: int, *, max_steps: int = 400) -> list[Progress]:
    """Step until `epochs` epochs are confirmed; the node makes a block every 100 ms."""
    done: list[Progress] = []
    for _ in range(max_steps):
        progress = await anchorer.step()
        done.append(progress)
        if done.count(Progress.CONFIRMED) == epochs:
            return done
        if progress in (Progress.WAITING, Progress.IDLE):
            await asyncio.sleep(0.05)
    raise AssertionError(f"not confirmed after {max_steps} steps: {done[-5:]}")


def commit_all(sessions: sessionmaker[Session], extra_trips: int = 0) -> None:
    with session_scope(sessions) as session:
        for kind, record in RECORDS.items():
            commit_record(session, record_type=kind, record_id=1, record=record)
        for trip_id in range(2, 2 + extra_trips):
            record = {"type": "trip_score", "trip_id": trip_id, "score": trip_id % 101}
            commit_record(session, record_type=RecordType.TRIP_SCORE, record_id=trip_id, record=record)


def test_anchored_roots_equal_local_roots_and_every_record_type_verifies(
    fresh_anchor_chain: DeployedChain, sessions: sessionmaker[Session]
) -> None:
    commit_all(sessions, extra_trips=9)  # 13 leaves -> epochs of 5, 5, 3
    policy = EpochPolicy(max_age=timedelta(0), max_leaves=5)
    anchorer = Anchorer(sessions, anchor_chain(fresh_anchor_chain), policy=policy)
    steps = asyncio.run(run_until_confirmed(anchorer, 3))
    assert steps.count(Progress.SENT) == 3 and steps.count(Progress.CLOSED) == 3
    with session_scope(sessions) as session:
        epochs = session.scalars(select(ScoreEpoch).where(ScoreEpoch.state == EpochState.CONFIRMED)).all()
        local = {e.epoch: (e.root, e.leaf_count, e.block) for e in epochs}
        attempts = session.scalars(select(AnchorAttempt)).all()
        proofs = {kind: build_proof(session, record_type=kind, record_id=1).to_json() for kind in RECORDS}
    assert sorted(local) == [0, 1, 2] and [local[e][1] for e in (0, 1, 2)] == [5, 5, 3]
    assert len(attempts) == 3
    client = fresh_anchor_chain.client
    for epoch, (root, leaves, _) in local.items():
        assert asyncio.run(client.get_root(epoch)) == root
        assert asyncio.run(client.get_leaf_count(epoch)) == leaves
    rpc = fresh_anchor_chain.deployment.rpc_url
    contract = f"0x{fresh_anchor_chain.deployment.contracts.anchor}"
    for kind, doc in proofs.items():
        assert doc["anchor"]["contract"] == contract and doc["anchor"]["network_magic"] == 42
        jsonschema.validate(doc, PROOF_SCHEMA)  # the shape the API's OpenAPI document promises
        proof, inclusion, anchor = verify_against_node(doc, rpc, contract=contract)
        assert proof.record == RECORDS[kind] and anchor.block == local[inclusion.epoch][2]


def _reason(doc: dict[str, Any], rpc: str, **kwargs: Any) -> FailureReason:
    with pytest.raises(VerificationError) as caught:
        verify_against_node(doc, rpc, **kwargs)
    return caught.value.reason


def _flip_hex(value: str, at: int) -> str:
    raw = bytearray(bytes.fromhex(value))
    raw[at] ^= 0x80
    return raw.hex()


def test_tampered_proofs_fail_against_the_node_with_the_right_reason(
    fresh_anchor_chain: DeployedChain, sessions: sessionmaker[Session], neot_chain: DeployedChain
) -> None:
    commit_all(sessions, extra_trips=4)  # 8 leaves, one epoch
    anchorer = Anchorer(sessions, anchor_chain(fresh_anchor_chain), policy=EpochPolicy(max_leaves=8))
    asyncio.run(run_until_confirmed(anchorer, 1))
    # a second, confirmed epoch, so "another anchored epoch" exists to point a proof at
    with session_scope(sessions) as session:
        commit_record(session, record_type=RecordType.TRIP_SCORE, record_id=99, record={"type": "trip_score", "x": 1})
    asyncio.run(
        run_until_confirmed(
            Anchorer(sessions, anchor_chain(fresh_anchor_chain), policy=EpochPolicy(max_age=timedelta(0))), 1
        )
    )
    with session_scope(sessions) as session:
        good = build_proof(session, record_type=RecordType.REPAIR_PAYOUT, record_id=1).to_json()
    rpc = fresh_anchor_chain.deployment.rpc_url
    verify_against_node(good, rpc)

    def tampered(**change: Any) -> dict[str, Any]:
        doc = copy.deepcopy(good)
        doc.update(change)
        return doc

    for at in (0, 13, 31):
        assert _reason(tampered(salt=_flip_hex(good["salt"], at)), rpc) is FailureReason.LEAF_NOT_IN_ROOT
        assert _reason(tampered(root=_flip_hex(good["root"], at)), rpc) is FailureReason.ROOT_MISMATCH
        for step in range(len(good["audit_path"])):
            path = list(good["audit_path"])
            path[step] = _flip_hex(path[step], at)
            assert _reason(tampered(audit_path=path), rpc) is FailureReason.LEAF_NOT_IN_ROOT
    record = dict(good["record"], shop_amount=good["record"]["shop_amount"] + 1)
    assert _reason(tampered(record=record), rpc) is FailureReason.LEAF_NOT_IN_ROOT
    assert _reason(tampered(epoch=1), rpc) is FailureReason.ROOT_MISMATCH  # another anchored epoch
    assert _reason(tampered(epoch=7), rpc) is FailureReason.NOT_ANCHORED
    anchor = good["anchor"]
    assert _reason(tampered(anchor={**anchor, "network_magic": 860833102}), rpc) is FailureReason.WRONG_NETWORK
    other_anchor = f"0x{neot_chain.deployment.contracts.anchor}"  # a real anchor contract, not this one
    # checked against the contract it names, which holds no such root for this epoch
    assert _reason(tampered(anchor={**anchor, "contract": other_anchor}), rpc) in {
        FailureReason.NOT_ANCHORED,
        FailureReason.ROOT_MISMATCH,
    }
    token = f"0x{neot_chain.deployment.contracts.token}"  # exists, but is no score anchor
    assert _reason(tampered(anchor={**anchor, "contract": token}), rpc) is FailureReason.WRONG_CONTRACT
    assert _reason(tampered(anchor={**anchor, "contract": "0x" + "12" * 20}), rpc) is FailureReason.WRONG_CONTRACT
    assert _reason(good, rpc, contract=other_anchor) is FailureReason.WRONG_CONTRACT
    assert _reason(tampered(anchor={**anchor, "tx": "0x" + "ab" * 32}), rpc) is FailureReason.TX_MISMATCH
    assert _reason(tampered(anchor={**anchor, "block": anchor["block"] + 1}), rpc) is FailureReason.BLOCK_MISMATCH
    with pytest.raises(MalformedProofError, match="salt is not hex"):
        verify_against_node(tampered(salt="zz" * 32), rpc)


def test_a_second_process_racing_on_the_same_epoch_sends_nothing(
    fresh_anchor_chain: DeployedChain, sessions: sessionmaker[Session]
) -> None:
    commit_all(sessions)
    policy = EpochPolicy(max_leaves=4)
    first = Anchorer(sessions, anchor_chain(fresh_anchor_chain), policy=policy)
    second = Anchorer(sessions, anchor_chain(fresh_anchor_chain), policy=policy)

    async def race() -> None:
        assert await first.step() is Progress.CLOSED
        with session_scope(sessions) as session:
            root = session.scalars(select(ScoreEpoch.root).where(ScoreEpoch.epoch == 0)).one()
        assert root is not None
        assert await first.step() is Progress.SENT
        # the second process decided while epoch 0 was still closed; by the time it records, it is sent
        assert await second._send(0, root, 4) is Progress.IDLE
        await run_until_confirmed(first, 1)

    asyncio.run(race())
    with session_scope(sessions) as session:
        assert len(session.scalars(select(AnchorAttempt)).all()) == 1
    assert asyncio.run(fresh_anchor_chain.client.latest_epoch()) == 0

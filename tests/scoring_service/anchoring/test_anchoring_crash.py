"""Crash safety: the real `neot anchor run` process is killed (SIGKILL) between steps, and a
node that is down only delays anchoring (and shows on `/health` and `/metrics`). Never anchors an
epoch twice, never skips one."""

import asyncio
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from models import AnchorAttempt, EpochState, ScoreEpoch, make_engine, make_session_factory, session_scope
from protocol import RecordType
from scoring_service.anchoring import ChainUnavailable, EpochPolicy, commit_record
from scoring_service.anchoring.service import AnchorChain, Anchorer, Progress
from scoring_service.monitoring import HealthServer, Heartbeat
from tests.chain_fixtures import DeployedChain
from tests.scoring_service.anchoring.rpc_faults import FaultyRpcRelay, faulty_relay

pytestmark = [pytest.mark.chain, pytest.mark.xdist_group("neo")]


@pytest.fixture
def db(tmp_path: Path) -> Iterator[tuple[str, sessionmaker[Session]]]:
    import migrations

    url = f"sqlite:///{tmp_path / 'neot.sqlite3'}"
    migrations.upgrade(url)
    engine = make_engine(url)
    yield url, make_session_factory(engine)
    engine.dispose()


@pytest.fixture
def relay(fresh_anchor_chain: DeployedChain) -> Iterator[FaultyRpcRelay]:
    with faulty_relay(fresh_anchor_chain.deployment.rpc_url) as relay:
        yield relay


def commit_trips(sessions: sessionmaker[Session], ids: range) -> None:
    with session_scope(sessions) as session:
        for i in ids:
            record = {"type": "trip_score", "trip_id": i, "score": 50 + i % 50}
            commit_record(session, record_type=RecordType.TRIP_SCORE, record_id=i, record=record)


def epoch_row(sessions: sessionmaker[Session], epoch: int) -> tuple[EpochState, int, bytes | None, str | None]:
    with session_scope(sessions) as session:
        row = session.scalars(select(ScoreEpoch).where(ScoreEpoch.epoch == epoch)).one()
        attempts = session.scalar(select(func.count(AnchorAttempt.id)).where(AnchorAttempt.epoch == epoch))
        return row.state, int(attempts or 0), row.root, row.tx_hash


def start_service(url: str, chain_dir: Path, tmp_path: Path) -> subprocess.Popen[bytes]:
    env = {**os.environ, "NEOT_DATABASE_URL": url, "NEOT_DATA_DIR": str(tmp_path), "NEOT_LOG_FORMAT": "json"}
    neot = Path(sys.executable).with_name("neot")
    command = [str(neot), "anchor", "run", "--every-min", "0", "--poll-s", "0.1", "--chain-dir", str(chain_dir)]
    with (tmp_path / "anchor.log").open("ab") as log:
        return subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)


def wait_for(condition: object, what: str, timeout_s: float = 60.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


@pytest.mark.parametrize(
    ("held", "state_at_kill", "attempts_at_kill"),
    [
        ("invokefunction", EpochState.CLOSED, 0),  # closed, nothing signed yet
        ("sendrawtransaction", EpochState.SENT, 1),  # signed and recorded, node never got it
        ("getapplicationlog", EpochState.SENT, 1),  # broadcast, confirmation not recorded
    ],
)
def test_killed_between_steps_the_service_resumes_and_anchors_exactly_once(
    fresh_anchor_chain: DeployedChain,
    relay: FaultyRpcRelay,
    db: tuple[str, sessionmaker[Session]],
    tmp_path: Path,
    held: str,
    state_at_kill: EpochState,
    attempts_at_kill: int,
) -> None:
    url, sessions = db
    chain_dir = tmp_path / "chain"
    shutil.copytree(fresh_anchor_chain.chain_dir, chain_dir)
    replace(fresh_anchor_chain.deployment, chain_dir=chain_dir, rpc_url=relay.url).save()
    commit_trips(sessions, range(1, 6))

    relay.hold = {held}
    first = start_service(url, chain_dir, tmp_path)
    try:
        assert relay.arrived[held].wait(timeout=60), "the service never reached the held call"
        first.send_signal(signal.SIGKILL)
    finally:
        first.wait(timeout=30)
    state, attempts, root, _ = epoch_row(sessions, 0)
    assert (state, attempts) == (state_at_kill, attempts_at_kill)
    if held != "getapplicationlog":
        assert asyncio.run(fresh_anchor_chain.client.get_root(0)) is None

    relay.hold = set()
    relay.release.set()
    second = start_service(url, chain_dir, tmp_path)
    try:
        wait_for(lambda: epoch_row(sessions, 0)[0] is EpochState.CONFIRMED, "epoch 0 confirmed")
    finally:
        second.send_signal(signal.SIGTERM)
        assert second.wait(timeout=30) == 0
    state, attempts, root, tx_hash = epoch_row(sessions, 0)
    assert attempts == 1  # the same signed transaction throughout: never a second anchor
    with session_scope(sessions) as session:
        assert session.scalars(select(AnchorAttempt.tx_hash)).one() == tx_hash
    client = fresh_anchor_chain.client
    assert asyncio.run(client.get_root(0)) == root
    assert asyncio.run(client.latest_epoch()) == 0


def test_a_node_that_is_down_delays_anchoring_and_loses_nothing(
    fresh_anchor_chain: DeployedChain, relay: FaultyRpcRelay, db: tuple[str, sessionmaker[Session]]
) -> None:
    _, sessions = db
    chain = AnchorChain(
        relay.url,
        contract=fresh_anchor_chain.deployment.contracts.anchor,
        signer=fresh_anchor_chain.account("anchorer"),
        timeout_s=2.0,
    )
    anchorer = Anchorer(sessions, chain, policy=EpochPolicy(max_leaves=3))

    async def scenario() -> None:
        relay.down = True
        commit_trips(sessions, range(1, 4))
        assert await anchorer.step() is Progress.CLOSED  # closing needs no chain
        with pytest.raises(ChainUnavailable):
            await anchorer.step()
        commit_trips(sessions, range(4, 7))
        assert await anchorer.step() is Progress.CLOSED  # epochs keep closing while it is down
        with pytest.raises(ChainUnavailable):
            await anchorer.step()
        assert [epoch_row(sessions, e)[:2] for e in (0, 1)] == [(EpochState.CLOSED, 0)] * 2
        relay.down, relay.bad_gateway = False, True
        with pytest.raises(ChainUnavailable, match="JSON-RPC"):
            await anchorer.step()
        relay.bad_gateway = False
        confirmed = 0
        while confirmed < 2:
            progress = await anchorer.step()
            confirmed += progress is Progress.CONFIRMED
            if progress is Progress.WAITING:
                await asyncio.sleep(0.05)

    asyncio.run(scenario())
    client = fresh_anchor_chain.client
    for epoch in (0, 1):
        state, attempts, root, _ = epoch_row(sessions, epoch)
        assert (state, attempts) == (EpochState.CONFIRMED, 1)
        assert asyncio.run(client.get_root(epoch)) == root
        assert asyncio.run(client.get_leaf_count(epoch)) == 3


def test_a_transaction_that_expires_unsent_is_replaced_and_only_one_lands(
    fresh_anchor_chain: DeployedChain, relay: FaultyRpcRelay, db: tuple[str, sessionmaker[Session]]
) -> None:
    _, sessions = db
    chain = AnchorChain(
        relay.url,
        contract=fresh_anchor_chain.deployment.contracts.anchor,
        signer=fresh_anchor_chain.account("anchorer"),
        valid_blocks=2,
        timeout_s=2.0,
    )
    anchorer = Anchorer(sessions, chain, policy=EpochPolicy(max_leaves=2))
    commit_trips(sessions, range(1, 3))

    async def scenario() -> None:
        relay.drop = {"sendrawtransaction"}  # the node never hears of the transaction
        assert await anchorer.step() is Progress.CLOSED
        while epoch_row(sessions, 0)[1] < 2:  # retried until provably expired, then re-signed
            try:
                await anchorer.step()
            except ChainUnavailable:
                await asyncio.sleep(0.05)
        relay.drop = set()
        while await anchorer.step() is not Progress.CONFIRMED:
            await asyncio.sleep(0.05)

    asyncio.run(scenario())
    state, attempts, root, tx_hash = epoch_row(sessions, 0)
    assert state is EpochState.CONFIRMED and attempts >= 2  # 2 blocks of validity: may expire again
    with session_scope(sessions) as session:
        *expired, last = session.scalars(select(AnchorAttempt.tx_hash).order_by(AnchorAttempt.id)).all()
    assert tx_hash == last and last not in expired
    for old in expired:
        assert asyncio.run(chain.outcome(old)) is None  # an expired one never made it on chain
    assert asyncio.run(fresh_anchor_chain.client.get_root(0)) == root


def _metric(url: str, name: str) -> float:
    text = httpx.get(f"{url}/metrics", timeout=5).text
    (line,) = (x for x in text.splitlines() if x.startswith(f"{name} "))
    return float(line.split()[1])


def test_health_stays_up_while_the_node_is_down_and_metrics_show_errors_and_the_lag_closing(
    fresh_anchor_chain: DeployedChain, relay: FaultyRpcRelay, db: tuple[str, sessionmaker[Session]]
) -> None:
    _, sessions = db
    chain = AnchorChain(
        relay.url,
        contract=fresh_anchor_chain.deployment.contracts.anchor,
        signer=fresh_anchor_chain.account("anchorer"),
        timeout_s=2.0,
    )
    anchorer = Anchorer(sessions, chain, policy=EpochPolicy(max_leaves=3))
    heartbeat = Heartbeat(stale_after_s=60)

    async def scenario(url: str) -> None:
        errors_before = await asyncio.to_thread(_metric, url, "neot_chain_errors_total")
        relay.down = True
        commit_trips(sessions, range(1, 4))
        stop = asyncio.Event()
        loop = asyncio.create_task(anchorer.run(poll_s=0.05, stop=stop, heartbeat=heartbeat))
        deadline = time.monotonic() + 60
        while await asyncio.to_thread(_metric, url, "neot_chain_errors_total") == errors_before:
            assert time.monotonic() < deadline, "no chain error counted while the node was down"
            await asyncio.sleep(0.05)
        health = await asyncio.to_thread(httpx.get, f"{url}/health", timeout=5)
        assert health.status_code == 200 and "chain unavailable" in health.json()["detail"]
        assert await asyncio.to_thread(_metric, url, "neot_epoch_lag_seconds") > 0
        relay.down = False
        while await asyncio.to_thread(_metric, url, "neot_epoch_lag_seconds") != 0:
            assert time.monotonic() < deadline + 60, "the lag did not close once the node was back"
            await asyncio.sleep(0.1)
        stop.set()
        await loop

    with HealthServer(heartbeat, host="127.0.0.1", port=0) as server:
        asyncio.run(scenario(f"http://127.0.0.1:{server.port}"))
    assert epoch_row(sessions, 0)[:2] == (EpochState.CONFIRMED, 1)

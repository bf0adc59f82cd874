"""The whole story through the command line, on a persistent neo-go chain (BoltDB):
`neot anchor run` anchors, `neot proof` writes proofs, `neot verify` checks them; after the node
and the service restart, old proofs still verify and new epochs continue the numbering."""

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session, sessionmaker

from chain import NeoGoNode, committee_account, deploy_neot, find_free_port
from models import EpochState, ScoreEpoch, make_engine, make_session_factory, session_scope
from neot._verifier import verify_against_node
from protocol import RecordType
from scoring_service.anchoring import build_proof, commit_record

pytestmark = [pytest.mark.chain, pytest.mark.slow, pytest.mark.xdist_group("neo")]

RECORDS: dict[RecordType, dict[str, Any]] = {
    RecordType.TRIP_SCORE: {"type": "trip_score", "trip_id": 1, "score": 77},
    RecordType.DRIVER_SCORE: {"type": "driver_score", "driver_id": 1, "score": 90},
    RecordType.PREMIUM_STATEMENT: {"type": "premium_statement", "statement_id": 1, "premium": 12_300_000_000},
    RecordType.REPAIR_PAYOUT: {"type": "repair_payout", "job_id": 1, "shop_amount": 9_500_000_000},
}


class Env:
    def __init__(self, tmp_path: Path) -> None:
        self.data_dir = tmp_path / "data"
        self.url = f"sqlite:///{tmp_path / 'neot.sqlite3'}"
        self.env = {**os.environ, "NEOT_DATABASE_URL": self.url, "NEOT_DATA_DIR": str(self.data_dir)}
        self.neot = str(Path(sys.executable).with_name("neot"))
        self.log = tmp_path / "anchor.log"

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([self.neot, *args], env=self.env, capture_output=True, text=True, timeout=60)

    def start_service(self) -> subprocess.Popen[bytes]:
        with self.log.open("ab") as log:
            return subprocess.Popen(
                [self.neot, "anchor", "run", "--every-min", "0", "--poll-s", "0.1"],
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )


@pytest.fixture
def persistent_node(tmp_path: Path) -> Iterator[NeoGoNode]:
    node = NeoGoNode(tmp_path / "node", rpc_port=find_free_port(), persistent=True)
    node.start()
    try:
        yield node
    finally:
        if node.pid is not None:
            node.stop()


def confirmed_epochs(sessions: sessionmaker[Session]) -> int:
    with session_scope(sessions) as session:
        return session.query(ScoreEpoch).filter(ScoreEpoch.state == EpochState.CONFIRMED).count()


def anchor_until(env: Env, sessions: sessionmaker[Session], epochs: int) -> None:
    service = env.start_service()
    try:
        deadline = time.monotonic() + 60
        while confirmed_epochs(sessions) < epochs:
            assert time.monotonic() < deadline, env.log.read_text()[-2000:]
            time.sleep(0.1)
    finally:
        service.send_signal(signal.SIGTERM)
        assert service.wait(timeout=30) == 0


def test_proofs_survive_node_and_service_restarts(tmp_path: Path, persistent_node: NeoGoNode) -> None:
    import migrations

    env = Env(tmp_path)
    asyncio.run(deploy_neot(persistent_node.rpc_url, env.data_dir / "chain", committee_account(), fast_kdf=True))
    migrations.upgrade(env.url)
    engine = make_engine(env.url)
    sessions = make_session_factory(engine)
    with session_scope(sessions) as session:
        for kind, record in RECORDS.items():
            commit_record(session, record_type=kind, record_id=1, record=record)

    pending = env.run("proof", "driver_score/1", "--out", str(tmp_path / "pending.json"))
    assert pending.returncode == 0 and "pending" in pending.stdout
    check = env.run("verify", str(tmp_path / "pending.json"), "--rpc", persistent_node.rpc_url)
    assert check.returncode == 1 and "✗ pending" in check.stdout

    anchor_until(env, sessions, 1)
    written = env.run("proof", "trip_score/1", "--out", str(tmp_path / "trip_score.json"))
    assert written.returncode == 0 and "epoch 0" in written.stdout, written.stderr
    check = env.run("verify", str(tmp_path / "trip_score.json"), "--rpc", persistent_node.rpc_url)
    assert check.returncode == 0 and check.stdout.startswith("✓"), check.stdout + check.stderr
    with session_scope(sessions) as session:  # the other types: same code path, in-process
        for kind in RECORDS:
            document = build_proof(session, record_type=kind, record_id=1).to_json()
            verify_against_node(document, persistent_node.rpc_url)

    doc = json.loads((tmp_path / "trip_score.json").read_text())
    doc["record"]["score"] = 99
    (tmp_path / "tampered.json").write_text(json.dumps(doc))
    check = env.run("verify", str(tmp_path / "tampered.json"), "--rpc", persistent_node.rpc_url, "--json")
    assert check.returncode == 1 and json.loads(check.stdout)["reason"] == "leaf_not_in_root"

    persistent_node.stop()
    down = env.run("verify", str(tmp_path / "trip_score.json"), "--rpc", persistent_node.rpc_url)
    assert down.returncode == 2 and "check --rpc" in down.stderr
    persistent_node.start()

    with session_scope(sessions) as session:
        record = {"type": "trip_score", "trip_id": 2, "score": 64}
        commit_record(session, record_type=RecordType.TRIP_SCORE, record_id=2, record=record)
    anchor_until(env, sessions, 2)  # a restarted service continues with epoch 1
    status = env.run("anchor", "status", "--json")
    assert [(e["epoch"], e["state"], e["leaves"]) for e in json.loads(status.stdout)] == [
        (2, "open", 0),
        (1, "confirmed", 1),
        (0, "confirmed", 4),
    ]
    for name, kind in (("trip_score.json", None), ("new.json", "trip_score/2")):
        if kind is not None:
            assert env.run("proof", kind, "--out", str(tmp_path / name)).returncode == 0
        check = env.run("verify", str(tmp_path / name), "--rpc", persistent_node.rpc_url, "--json")
        assert check.returncode == 0, check.stdout + check.stderr
        assert json.loads(check.stdout)["epoch"] == (0 if kind is None else 1)
    engine.dispose()

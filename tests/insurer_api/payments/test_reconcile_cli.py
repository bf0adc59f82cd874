"""`neot ledger reconcile` and `neot repair explain` through the real command line: a clean ledger
exits 0, every difference is listed and exits 1; an explanation is recomputed and checked on chain."""

import json
import os
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from money_world import NEOT, MoneyWorld

from insurer_api.payments import deposit_account, post, wallet_account
from insurer_api.payments._premiums import charge_statement, record_deposit
from insurer_api.repair._service import open_job
from models import Payment, PaymentState, Policy, RepairJob

pytestmark = [pytest.mark.chain]


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    """The command line reads the same ledger code on both backends; SQLite keeps these runs short."""
    return sqlite_url


def _neot(url: str, chain_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NEOT_DATABASE_URL": url, "NEOT_LOG_LEVEL": "WARNING", "COLUMNS": "250"}
    neot = str(Path(sys.executable).with_name("neot"))
    return subprocess.run(
        [neot, *args, "--chain-dir", str(chain_dir)], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def _charged(money: MoneyWorld) -> None:
    async def go() -> None:
        tx = await money.deposit(200 * NEOT, cap=200 * NEOT)
        with money.factory() as session:
            policy = session.get(Policy, money.policy_id)
            assert policy is not None
            await record_deposit(session, money.gateway, policy=policy, tx_hash=tx)
            statement = money.add_statement(session, premium=70 * NEOT, month=5)
            await charge_statement(session, money.gateway, statement)

    money.run(go())


def test_reconcile_reports_every_difference(money: MoneyWorld, migrated_url: str) -> None:
    _charged(money)
    chain_dir = money.chain.chain_dir
    clean = _neot(migrated_url, chain_dir, "ledger", "reconcile", "--json")
    assert clean.returncode == 0, clean.stderr
    assert json.loads(clean.stdout)["clean"] is True

    with money.factory() as session:  # a balanced entry the chain never saw, and a payment it never had
        post(
            session,
            description="tampered",
            amounts={deposit_account(money.policy_id): -1, wallet_account(money.insurer.address): 1},
        )
        ghost = session.query(Payment).filter(Payment.kind == "premium_charge").one()
        session.add(
            Payment(
                idempotency_key="ghost",
                request_sha256=ghost.request_sha256,
                kind="premium_charge",
                amount=0,
                state=PaymentState.CONFIRMED,
                intended_tx="0x" + "ab" * 32,
                plan={},
            )
        )
        session.commit()
    dirty = _neot(migrated_url, chain_dir, "ledger", "reconcile", "--json")
    assert dirty.returncode == 1
    found = {(d["subject"], d["ledger"], d["chain"]) for d in json.loads(dirty.stdout)["differences"]}
    assert found == {
        (deposit_account(money.policy_id), 130 * NEOT - 1, 130 * NEOT),
        (wallet_account(money.insurer.address), 70 * NEOT + 1, 70 * NEOT),
        ("ghost", "confirmed", "missing"),
    }
    text = _neot(migrated_url, chain_dir, "ledger", "reconcile")
    assert text.returncode == 1 and "3 differences" in text.stdout


def test_repair_explain_recomputes_and_checks_the_chain(money: MoneyWorld, migrated_url: str) -> None:
    with money.factory() as session:
        first = money.add_shop(session, services=["dtc:P03*"])
        money.add_shop(session, services=["body"])
        policy = session.get(Policy, money.policy_id)
        assert policy is not None
        job = money.run(
            open_job(
                session,
                money.gateway,
                policy=policy,
                service="dtc:P0301",
                authorised_amount=10 * NEOT,
                opened_by="claim",
                royalty_address=money.royalty,
            )
        )
        assert job.shop_id == first.id
        job_id = job.id
    chain_dir = money.chain.chain_dir
    shown = _neot(migrated_url, chain_dir, "repair", "explain", str(job_id))
    assert shown.returncode == 0, shown.stderr
    assert f"{first.neo_address} wins with smoothed success rate 1/2" in shown.stdout
    assert "the only eligible shop" in shown.stdout and "does not offer the service" in shown.stdout

    with money.factory() as session:  # a stored record the chain does not back
        row = session.get(RepairJob, job_id)
        assert row is not None and row.negotiation is not None
        snapshot = dict(row.negotiation)
        snapshot["ranking"] = [{**r, "jobs": 5, "successes": 5} for r in snapshot["ranking"]]  # type: ignore[union-attr]
        row.negotiation = snapshot
        session.commit()
    checked = _neot(migrated_url, chain_dir, "repair", "explain", str(job_id), "--json")
    assert checked.returncode == 1
    assert set(json.loads(checked.stdout)["chain_mismatches"]) == {r["neo_address"] for r in snapshot["ranking"]}


def test_unreachable_node_is_a_one_line_error(money: MoneyWorld, migrated_url: str, tmp_path: Path) -> None:
    deployment = replace(money.chain.deployment, chain_dir=tmp_path, rpc_url="http://127.0.0.1:9")
    for name in ("wallet.json", "wallet.password"):
        shutil.copy2(money.chain.chain_dir / name, tmp_path / name)
    deployment.save()
    result = _neot(migrated_url, tmp_path, "ledger", "reconcile")
    assert result.returncode == 2
    assert "unreachable" in result.stderr and "Traceback" not in result.stderr
    missing = _neot(migrated_url, tmp_path / "nowhere", "ledger", "reconcile")
    assert missing.returncode == 2 and "neot chain deploy" in missing.stderr

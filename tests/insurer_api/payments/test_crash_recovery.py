"""A payer killed (SIGKILL) between writing its intent and confirming it; `reconcile` then
finishes or voids the payment from what the chain says, and never pays twice."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from money_world import NEOT, MoneyWorld

from insurer_api.payments import (
    PaymentState,
    balance,
    deposit_account,
    job_account,
    pending_account,
    wallet_account,
)
from insurer_api.payments._premiums import charge_statement, record_deposit
from insurer_api.payments._reconcile import reconcile
from insurer_api.repair._service import open_job, submit_invoice
from models import Commitment, JobState, Payment, Policy, RepairJob, Statement

pytestmark = [pytest.mark.chain]

PAYER = Path(__file__).with_name("crash_payer.py")


def _crash(
    money: MoneyWorld, url: str, statement_id: int, stage: str, valid_blocks: int, action: str = "charge"
) -> None:
    deployment = money.chain.deployment
    env = {
        **os.environ,
        "CRASH_INSURER_KEY": money.insurer.private_key.hex(),
        "CRASH_RPC_URL": deployment.rpc_url,
        "CRASH_TOKEN": str(deployment.contracts.token),
        "CRASH_ESCROW": str(deployment.contracts.escrow),
        "CRASH_VALID_BLOCKS": str(valid_blocks),
        "CRASH_DATABASE_URL": url,
        "CRASH_STATEMENT_ID": str(statement_id),
        "CRASH_POLICY_ID": str(money.policy_id),
        "CRASH_ROYALTY": money.royalty,
        "CRASH_JOB_ID": os.environ.get("CRASH_JOB_ID", "0"),
    }
    proc = subprocess.run(
        [sys.executable, str(PAYER), stage, action], env=env, capture_output=True, timeout=120, check=False
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()[-2000:]


def _setup(money: MoneyWorld, premium: int) -> int:
    async def deposit() -> None:
        tx = await money.deposit(400 * NEOT, cap=300 * NEOT)
        with money.factory() as session:
            policy = session.get(Policy, money.policy_id)
            assert policy is not None
            await record_deposit(session, money.gateway, policy=policy, tx_hash=tx)

    money.run(deposit())
    with money.factory() as session:
        return money.add_statement(session, premium=premium, month=8).id


def _in_flight(money: MoneyWorld) -> Payment:
    with money.factory() as session:
        payment = session.query(Payment).filter(Payment.kind == "premium_charge").one()
        assert payment.state in (PaymentState.INTENDED, PaymentState.SENT)
        assert balance(session, pending_account(payment.id)) == payment.amount  # intent is in the ledger
        return payment


@pytest.mark.parametrize("stage", ["before-send", "after-send"])
def test_killed_payer_is_finished_once(money: MoneyWorld, migrated_url: str, stage: str) -> None:
    statement_id = _setup(money, 150 * NEOT)
    _crash(money, migrated_url, statement_id, stage, valid_blocks=600)
    intent = _in_flight(money)
    chain_id = money.policy_chain_id().encode()
    with money.factory() as session:
        report = money.run(reconcile(session, money.gateway))
        assert [(a.subject, a.result) for a in report.actions] == [
            (intent.idempotency_key, "intended → confirmed"),
            (f"statement {statement_id}", f"linked to payment {intent.id}"),
        ]
        assert report.differences == []
        payment = session.get(Payment, intent.id)
        assert payment is not None and payment.state is PaymentState.CONFIRMED
        assert payment.intended_tx == intent.intended_tx  # the same signed transaction, not a new one
        assert balance(session, deposit_account(money.policy_id)) == 250 * NEOT
        assert balance(session, wallet_account(money.insurer.address)) == 150 * NEOT
        # a retry of the charge after recovery finds the confirmed payment and sends nothing
        statement = session.get(Statement, statement_id)
        assert statement is not None
        assert money.run(charge_statement(session, money.gateway, statement)).id == intent.id
        assert money.run(reconcile(session, money.gateway)).clean
    assert money.run(money.gateway.deposit_balance(chain_id)) == 250 * NEOT


def test_unsent_intent_past_its_validity_is_voided_then_retried(money: MoneyWorld, migrated_url: str) -> None:
    statement_id = _setup(money, 100 * NEOT)
    _crash(money, migrated_url, statement_id, "before-send", valid_blocks=2)
    intent = _in_flight(money)
    assert intent.valid_until_block is not None
    deadline = time.monotonic() + 30
    while money.run(money.gateway.height()) <= intent.valid_until_block:
        assert time.monotonic() < deadline, "the chain stopped producing blocks"
        time.sleep(0.1)
    chain_id = money.policy_chain_id().encode()
    with money.factory() as session:
        report = money.run(reconcile(session, money.gateway))
        assert [a.result for a in report.actions] == ["intended → void"]  # the statement stays unlinked
        assert report.differences == []
        assert balance(session, deposit_account(money.policy_id)) == 400 * NEOT  # intent reversed
        assert balance(session, pending_account(intent.id)) == 0
        assert money.run(money.gateway.deposit_balance(chain_id)) == 400 * NEOT
        statement = session.get(Statement, statement_id)
        assert statement is not None
        retried = money.run(charge_statement(session, money.gateway, statement))
        assert retried.id != intent.id and retried.state is PaymentState.CONFIRMED
        assert balance(session, deposit_account(money.policy_id)) == 300 * NEOT
        assert money.run(reconcile(session, money.gateway)).clean
    assert money.run(money.gateway.deposit_balance(chain_id)) == 300 * NEOT


def test_killed_job_opening_is_locked_by_reconciliation(money: MoneyWorld, migrated_url: str) -> None:
    with money.factory() as session:
        shop = money.add_shop(session)
    _crash(money, migrated_url, 0, "after-send", valid_blocks=600, action="lock")
    with money.factory() as session:
        job = session.query(RepairJob).one()
        assert job.state is JobState.ASSIGNED and job.shop_id == shop.id
        report = money.run(reconcile(session, money.gateway))
        assert [a.result for a in report.actions] == ["intended → confirmed", "assigned → locked"]
        assert report.differences == []
        session.refresh(job)
        assert job.state is JobState.LOCKED
        assert balance(session, job_account(job.chain_job_id)) == 10**9
        on_chain = money.run(money.gateway.job(job.chain_job_id.encode()))
        assert on_chain is not None and (on_chain.amount, on_chain.shop) == (10**9, shop.neo_address)


def test_killed_payout_is_paid_once_by_reconciliation(
    money: MoneyWorld, migrated_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    with money.factory() as session:
        shop = money.add_shop(session)
        policy = session.get(Policy, money.policy_id)
        assert policy is not None
        job = money.run(
            open_job(
                session,
                money.gateway,
                policy=policy,
                service="dtc:P0301",
                authorised_amount=50 * NEOT,
                opened_by="dtc",
                royalty_address=money.royalty,
            )
        )
        money.run(submit_invoice(session, money.gateway, job=job, amount=40 * NEOT))
        job_id = job.id
    monkeypatch.setenv("CRASH_JOB_ID", str(job_id))
    _crash(money, migrated_url, 0, "after-send", valid_blocks=600, action="release")
    with money.factory() as session:
        job = session.get(RepairJob, job_id)
        assert job is not None and job.state is JobState.COMPLETED  # verified, but the payout is in flight
        report = money.run(reconcile(session, money.gateway))
        assert [a.result for a in report.actions] == ["intended → confirmed", "completed → paid"]
        assert report.differences == []
        session.refresh(job)
        assert (job.state, job.shop_amount, job.royalty_amount) == (JobState.PAID, 36 * NEOT, 4 * NEOT)
        payouts = session.query(Commitment).filter(Commitment.record_type == "repair_payout")
        assert [c.record_id for c in payouts] == [job_id]
    assert money.run(money.gateway.balance_of(shop.neo_address)) == 36 * NEOT
    assert money.run(money.gateway.balance_of(money.royalty)) == 4 * NEOT

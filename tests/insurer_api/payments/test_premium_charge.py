"""Premium charges on a real chain: deposit booked, statement charged once however many callers
race for it, retries after a refusal, and the ledger reconciled with the chain."""

import asyncio
import threading

import pytest
from money_world import NEOT, MoneyWorld

from insurer_api.payments import (
    ChainRefusedError,
    PaymentState,
    balance,
    deposit_account,
    wallet_account,
)
from insurer_api.payments._premiums import charge_statement, record_deposit
from insurer_api.payments._reconcile import reconcile
from models import JournalEntry, Payment, Policy, Statement

pytestmark = [pytest.mark.chain]


def _deposit(money: MoneyWorld, amount: int, cap: int) -> None:
    async def go() -> None:
        tx = await money.deposit(amount, cap=cap)
        with money.factory() as session:
            policy = session.get(Policy, money.policy_id)
            assert policy is not None
            assert await record_deposit(session, money.gateway, policy=policy, tx_hash=tx) == amount
            assert await record_deposit(session, money.gateway, policy=policy, tx_hash=tx) == 0  # booked once

    money.run(go())


def test_statement_charged_from_deposit_and_reconciled(money: MoneyWorld) -> None:
    _deposit(money, 300 * NEOT, cap=200 * NEOT)
    insurer_before = money.run(money.gateway.balance_of(money.insurer.address))
    with money.factory() as session:
        statement = money.add_statement(session, premium=120 * NEOT, month=10)
        payment = money.run(charge_statement(session, money.gateway, statement))
        assert payment.state is PaymentState.CONFIRMED and statement.payment_id == payment.id
        again = money.run(charge_statement(session, money.gateway, statement))
        assert again.id == payment.id
        assert balance(session, deposit_account(money.policy_id)) == 180 * NEOT
        assert balance(session, wallet_account(money.insurer.address)) == 120 * NEOT
        report = money.run(reconcile(session, money.gateway))
        assert report.differences == []
    chain_id = money.policy_chain_id().encode()
    assert money.run(money.gateway.deposit_balance(chain_id)) == 180 * NEOT
    assert money.run(money.gateway.balance_of(money.insurer.address)) == insurer_before + 120 * NEOT


def test_charge_above_deposit_is_refused_then_succeeds_after_top_up(money: MoneyWorld) -> None:
    _deposit(money, 50 * NEOT, cap=200 * NEOT)
    with money.factory() as session:
        statement = money.add_statement(session, premium=80 * NEOT, month=11)
        with pytest.raises(ChainRefusedError, match="exceeds the deposit"):
            money.run(charge_statement(session, money.gateway, statement))
        assert session.query(Payment).count() == 1  # only the deposit: a refusal writes nothing
    _deposit(money, 50 * NEOT, cap=200 * NEOT)
    with money.factory() as session:
        statement = session.get(Statement, statement.id)
        assert statement is not None
        assert money.run(charge_statement(session, money.gateway, statement)).state is PaymentState.CONFIRMED
        assert balance(session, deposit_account(money.policy_id)) == 20 * NEOT
        assert money.run(reconcile(session, money.gateway)).clean


def test_concurrent_charges_of_one_statement_move_money_once(money: MoneyWorld) -> None:
    _deposit(money, 500 * NEOT, cap=300 * NEOT)
    with money.factory() as session:
        statement_id = money.add_statement(session, premium=250 * NEOT, month=9).id
    start = threading.Barrier(8)
    results: list[int] = []
    errors: list[BaseException] = []

    def worker() -> None:
        try:
            with money.factory() as session:
                statement = session.get(Statement, statement_id)
                assert statement is not None
                start.wait()
                payment = asyncio.run(charge_statement(session, money.gateway, statement))
                assert payment.state is PaymentState.CONFIRMED
                results.append(payment.id)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert errors == []
    assert len(results) == 8 and len(set(results)) == 1
    chain_id = money.policy_chain_id().encode()
    assert money.run(money.gateway.deposit_balance(chain_id)) == 250 * NEOT
    with money.factory() as session:
        charges = session.query(Payment).filter(Payment.kind == "premium_charge").all()
        assert len(charges) == 1
        assert session.query(JournalEntry).filter(JournalEntry.payment_id == charges[0].id).count() == 2
        assert balance(session, deposit_account(money.policy_id)) == 250 * NEOT
        assert money.run(reconcile(session, money.gateway)).clean

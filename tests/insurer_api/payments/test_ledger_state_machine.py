"""Random sequences of money operations on a real chain: after every step each ledger account
equals what the chain holds (NEP-17 balances, the escrow's job and deposit records), nothing is
left pending, and reconciliation finds no difference at the end."""

import asyncio

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import Bundle, RuleBasedStateMachine, invariant, rule, run_state_machine_as_test
from money_world import NEOT, MoneyWorld

from insurer_api.payments import (
    ChainRefusedError,
    balance,
    balances,
    deposit_account,
    job_account,
    wallet_account,
)
from insurer_api.payments._premiums import charge_statement, record_deposit
from insurer_api.payments._reconcile import reconcile
from insurer_api.repair._service import approve, fail, open_job, submit_invoice
from models import JobState, Policy, RepairJob, RepairShop, Statement

pytestmark = [pytest.mark.chain, pytest.mark.slow]

CAP = 300 * NEOT


class LedgerMatchesChain(RuleBasedStateMachine):
    """Operations through the payment code; the invariant reads the chain independently."""

    jobs = Bundle("jobs")

    def __init__(self, money: MoneyWorld) -> None:
        super().__init__()
        self.money = money
        self.session = money.factory()
        gw = money.gateway
        self.insurer_start = asyncio.run(gw.balance_of(money.insurer.address)) - balance(
            self.session, wallet_account(money.insurer.address)
        )
        self.driver_start = asyncio.run(gw.balance_of(money.driver.address)) - balance(
            self.session, wallet_account(money.driver.address)
        )
        shops = [s.neo_address for s in self.session.query(RepairShop)]
        self.shop = shops[0] if shops else money.add_shop(self.session, services=["dtc:*"], capacity=1000).neo_address
        self.month = 1 + self.session.query(Statement).count()

    def teardown(self) -> None:
        report = asyncio.run(reconcile(self.session, self.money.gateway))
        self.session.close()
        assert report.differences == []

    def _policy(self) -> Policy:
        policy = self.session.get(Policy, self.money.policy_id)
        assert policy is not None
        return policy

    @rule(target=jobs, amount=st.integers(1, 50))
    def open_a_job(self, amount: int) -> int:
        job = asyncio.run(
            open_job(
                self.session,
                self.money.gateway,
                policy=self._policy(),
                service="dtc:P0301",
                authorised_amount=amount * NEOT,
                opened_by="claim",
                royalty_address=self.money.royalty,
            )
        )
        assert job.state is JobState.LOCKED
        return job.id

    @rule(job_id=jobs, share=st.integers(1, 100))
    def pay_a_job(self, job_id: int, share: int) -> None:
        job = self.session.get(RepairJob, job_id)
        assert job is not None
        if job.state is not JobState.LOCKED:
            return
        invoice = max(1, job.authorised_amount * share // 100)
        asyncio.run(submit_invoice(self.session, self.money.gateway, job=job, amount=invoice))
        asyncio.run(approve(self.session, self.money.gateway, job=job, reason="approved"))
        assert job.state is JobState.PAID

    @rule(job_id=jobs)
    def fail_a_job(self, job_id: int) -> None:
        job = self.session.get(RepairJob, job_id)
        assert job is not None
        if job.state is not JobState.LOCKED:
            return
        asyncio.run(fail(self.session, self.money.gateway, job=job, reason="disputed"))
        assert job.state is JobState.REFUNDED

    @rule(amount=st.integers(1, 200))
    def deposit(self, amount: int) -> None:
        async def go() -> None:
            tx = await self.money.deposit(amount * NEOT, cap=CAP)
            await record_deposit(self.session, self.money.gateway, policy=self._policy(), tx_hash=tx)

        asyncio.run(go())

    @rule(amount=st.integers(1, 400))
    def charge_a_month(self, amount: int) -> None:
        if self.month > 12:
            return
        statement = self.money.add_statement(self.session, premium=amount * NEOT, month=self.month)
        self.month += 1
        held = balance(self.session, deposit_account(self.money.policy_id))
        if amount * NEOT > min(CAP, held):
            with pytest.raises(ChainRefusedError):
                asyncio.run(charge_statement(self.session, self.money.gateway, statement))
        else:
            asyncio.run(charge_statement(self.session, self.money.gateway, statement))

    @invariant()
    def ledger_equals_chain(self) -> None:
        money, gw, s = self.money, self.money.gateway, self.session

        async def read() -> list[tuple[str, int, int]]:
            pairs = [
                (
                    "insurer",
                    self.insurer_start + balance(s, wallet_account(money.insurer.address)),
                    await gw.balance_of(money.insurer.address),
                ),
                (
                    "driver",
                    self.driver_start + balance(s, wallet_account(money.driver.address)),
                    await gw.balance_of(money.driver.address),
                ),
                ("shop", balance(s, wallet_account(self.shop)), await gw.balance_of(self.shop)),
                ("royalty", balance(s, wallet_account(money.royalty)), await gw.balance_of(money.royalty)),
                (
                    "deposit",
                    balance(s, deposit_account(money.policy_id)),
                    await gw.deposit_balance(money.policy_chain_id().encode()),
                ),
            ]
            for job in s.query(RepairJob):
                on_chain = await gw.job(job.chain_job_id.encode())
                held = on_chain.amount if on_chain is not None and on_chain.state == 1 else 0
                pairs.append((f"job {job.id}", balance(s, job_account(job.chain_job_id)), held))
            return pairs

        for name, ledger, chain in asyncio.run(read()):
            assert ledger == chain, f"{name}: ledger {ledger} != chain {chain}"
        assert all(v == 0 for v in balances(s, prefix="pending:").values())


def test_random_operations_keep_ledger_equal_to_chain(money: MoneyWorld) -> None:
    run_state_machine_as_test(
        lambda: LedgerMatchesChain(money),
        settings=settings(
            max_examples=3,
            stateful_step_count=7,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
        ),
    )

"""The other ends of a repair job on a real chain: nobody eligible, a refund, refused steps."""

import pytest
from money_world import NEOT, MoneyWorld

from insurer_api.payments import balance, job_account, wallet_account
from insurer_api.payments._reconcile import reconcile
from insurer_api.repair import InvalidRepairError, JobStateError
from insurer_api.repair._service import approve, fail, open_job, submit_invoice
from models import JobState, Payment, Policy

pytestmark = [pytest.mark.chain]


def test_no_eligible_shop_locks_nothing_and_says_why(money: MoneyWorld) -> None:
    with money.factory() as session:
        body = money.add_shop(session, services=["body"])
        policy = session.get(Policy, money.policy_id)
        assert policy is not None
        too_much = money.run(money.gateway.balance_of(money.insurer.address)) + 1
        job = money.run(
            open_job(
                session,
                money.gateway,
                policy=policy,
                service="body",
                authorised_amount=too_much,
                opened_by="claim",
                royalty_address=money.royalty,
            )
        )
        assert job.state is JobState.OPENED and job.shop_id is None
        assert job.outcome_reason == (
            f"no eligible shop: {body.neo_address}: insurer funds do not cover the authorised amount"
        )
        assert session.query(Payment).count() == 0


def test_failed_job_refunds_everything_and_cannot_be_paid(money: MoneyWorld) -> None:
    with money.factory() as session:
        shop = money.add_shop(session)
        policy = session.get(Policy, money.policy_id)
        assert policy is not None
        before = money.run(money.gateway.balance_of(money.insurer.address))
        job = money.run(
            open_job(
                session,
                money.gateway,
                policy=policy,
                service="dtc:P0300",
                authorised_amount=80 * NEOT,
                opened_by="claim",
                royalty_address=money.royalty,
            )
        )
        assert job.state is JobState.LOCKED
        assert money.run(money.gateway.balance_of(money.insurer.address)) == before - 80 * NEOT
        with pytest.raises(InvalidRepairError, match="at most the authorised amount"):
            money.run(submit_invoice(session, money.gateway, job=job, amount=81 * NEOT))
        money.run(fail(session, money.gateway, job=job, reason="disputed by the driver"))
        assert job.state is JobState.REFUNDED
        with pytest.raises(JobStateError):
            money.run(approve(session, money.gateway, job=job, reason="too late"))
        assert money.run(money.gateway.balance_of(money.insurer.address)) == before
        assert money.run(money.gateway.balance_of(shop.neo_address)) == 0
        assert balance(session, job_account(job.chain_job_id)) == 0
        assert balance(session, wallet_account(money.insurer.address)) == 0
        on_chain = money.run(money.gateway.job(job.chain_job_id.encode()))
        assert on_chain is not None and on_chain.state == 3  # refunded
        assert money.run(reconcile(session, money.gateway)).clean

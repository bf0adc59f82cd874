"""Trouble code → job → Negotiation → escrow lock → invoice → code cleared → payout, on a real
neo-go node and both databases, for a senior and for a new shop; then the ledger reconciles."""

import asyncio

import pytest
from money_world import NEOT, MoneyWorld

from insurer_api.payments import balance, job_account, wallet_account
from insurer_api.payments._reconcile import reconcile
from insurer_api.repair import track_records
from insurer_api.repair._service import escrow_events, report_trouble_codes, submit_invoice
from models import JobState, Policy, RepairJob
from protocol import RecordType
from scoring_service.anchoring import build_proof

pytestmark = [pytest.mark.chain, pytest.mark.slow]

AUTHORISED = 500 * NEOT


async def _wait_for_record(money: MoneyWorld, shop: str, jobs: int) -> None:
    for _ in range(100):
        records = track_records(escrow_events(await money.gateway.escrow_events()))
        if shop in records and records[shop].jobs >= jobs:
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"{shop} never reached {jobs} jobs on chain")


def test_dtc_job_pays_senior_shop_95_and_new_shop_90(money: MoneyWorld) -> None:
    with money.factory() as session:
        senior = money.add_shop(session, services=["dtc:P03*"])
        new = money.add_shop(session, services=["dtc:P03*", "dtc:P04*"])
        other = money.add_shop(session, services=["body"])
        senior_addr, new_addr, other_addr = senior.neo_address, new.neo_address, other.neo_address
    money.run(money.seed_history(senior_addr, ok=20))
    money.run(_wait_for_record(money, senior_addr, 20))
    insurer_before = money.run(money.gateway.balance_of(money.insurer.address))

    async def flow() -> None:
        with money.factory() as session:
            policy = session.get(Policy, money.policy_id)
            assert policy is not None
            # a misfire: both P03 shops qualify; the senior one's record wins
            (job,) = await report_trouble_codes(
                session,
                money.gateway,
                policy=policy,
                active_codes=["P0301"],
                authorised_amount=AUTHORISED,
                royalty_address=money.royalty,
            )
            assert job.state is JobState.LOCKED and job.shop_id == senior.id
            assert job.negotiation is not None and job.negotiation["winner"] == senior_addr
            ranking = [r["neo_address"] for r in job.negotiation["ranking"]]  # type: ignore[index]
            assert ranking == [senior_addr, new_addr, other_addr]
            on_chain = await money.gateway.job(job.chain_job_id.encode())
            assert on_chain is not None and (on_chain.amount, on_chain.shop) == (AUTHORISED, senior_addr)
            # the same code reported again opens nothing new
            again = await report_trouble_codes(
                session,
                money.gateway,
                policy=policy,
                active_codes=["P0301"],
                authorised_amount=AUTHORISED,
                royalty_address=money.royalty,
            )
            assert again == []
            await submit_invoice(session, money.gateway, job=job, amount=400 * NEOT)
            assert job.state is JobState.INVOICED
            (done,) = await report_trouble_codes(
                session,
                money.gateway,
                policy=policy,
                active_codes=[],
                authorised_amount=AUTHORISED,
                royalty_address=money.royalty,
            )
            assert done.id == job.id and job.state is JobState.PAID
            assert (job.shop_amount, job.royalty_amount) == (380 * NEOT, 20 * NEOT)
            payout = build_proof(session, record_type=RecordType.REPAIR_PAYOUT, record_id=job.id).record
            assert (payout["shop_amount"], payout["senior_shop"]) == (380 * NEOT, True)  # committed for anchoring

            # a catalytic-converter code: only the new shop offers P04
            (job2,) = await report_trouble_codes(
                session,
                money.gateway,
                policy=policy,
                active_codes=["P0420"],
                authorised_amount=AUTHORISED,
                royalty_address=money.royalty,
            )
            assert job2.state is JobState.LOCKED and job2.shop_id == new.id
            await submit_invoice(session, money.gateway, job=job2, amount=200 * NEOT)
            await report_trouble_codes(
                session,
                money.gateway,
                policy=policy,
                active_codes=[],
                authorised_amount=AUTHORISED,
                royalty_address=money.royalty,
            )
            assert job2.state is JobState.PAID
            assert (job2.shop_amount, job2.royalty_amount) == (180 * NEOT, 20 * NEOT)

            # chain balances: what each party holds now
            gw = money.gateway
            assert await gw.balance_of(senior_addr) == 20 * NEOT + 380 * NEOT  # seeded payouts + this job
            assert await gw.balance_of(new_addr) == 180 * NEOT
            assert await gw.balance_of(money.royalty) == 40 * NEOT
            assert await gw.balance_of(money.insurer.address) == insurer_before - 600 * NEOT
            # ledger agrees, account by account, and reconciliation finds nothing
            assert balance(session, wallet_account(senior_addr)) == 380 * NEOT
            assert balance(session, wallet_account(new_addr)) == 180 * NEOT
            assert balance(session, wallet_account(money.royalty)) == 40 * NEOT
            assert balance(session, wallet_account(money.insurer.address)) == -600 * NEOT
            for j in session.query(RepairJob):
                assert balance(session, job_account(j.chain_job_id)) == 0
            report = await reconcile(session, gw)
            assert report.differences == [] and report.accounts_checked >= 6

    money.run(flow())

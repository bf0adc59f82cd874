"""On an escrow contract of its own (deployed for this test), the ledger's escrow accounts add up
to exactly the NEOT the contract holds, after deposits, a charge, a payout, a refund and a job
still open; `reconcile(exclusive_escrow=True)` checks just that."""

import asyncio
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest
from money_world import NEOT, MoneyWorld, build_money_world
from neo3.core import types
from neo3.wallet.account import Account

from chain import ChainClient, ContractName, committee_account, load_contract
from insurer_api.payments import balances
from insurer_api.payments._premiums import charge_statement, record_deposit
from insurer_api.payments._reconcile import reconcile
from insurer_api.repair._service import approve, fail, open_job, submit_invoice
from models import Policy, make_engine, make_session_factory
from tests.chain_fixtures import DeployedChain

pytestmark = [pytest.mark.chain]


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    return sqlite_url


async def _deploy_escrow(chain: DeployedChain) -> types.UInt160:
    deployer = Account.create_new()  # a contract's hash follows from its deployer: a new escrow
    await chain.client.transfer_gas(committee_account(), deployer.address, 20 * 10**8)
    escrow, _ = await chain.client.deploy_contract(
        deployer, load_contract(ContractName.ESCROW), chain.deployment.contracts.token
    )
    return escrow


@pytest.fixture
def own_escrow(neot_chain: DeployedChain, migrated_url: str, tmp_path: Path) -> Iterator[MoneyWorld]:
    escrow = asyncio.run(_deploy_escrow(neot_chain))
    deployment = replace(
        neot_chain.deployment, chain_dir=tmp_path, contracts=replace(neot_chain.deployment.contracts, escrow=escrow)
    )
    chain = DeployedChain(neot_chain.node, deployment, neot_chain.keys, ChainClient.from_deployment(deployment))
    engine = make_engine(migrated_url)
    yield build_money_world(chain, make_session_factory(engine))
    engine.dispose()


def test_escrow_holds_exactly_what_the_ledger_says(own_escrow: MoneyWorld) -> None:
    money = own_escrow

    async def flows() -> None:
        with money.factory() as session:
            money.add_shop(session, services=["dtc:*"], capacity=10)
            policy = session.get(Policy, money.policy_id)
            assert policy is not None
            tx = await money.deposit(300 * NEOT, cap=100 * NEOT)
            await record_deposit(session, money.gateway, policy=policy, tx_hash=tx)
            await charge_statement(session, money.gateway, money.add_statement(session, premium=60 * NEOT, month=3))
            jobs = [
                await open_job(
                    session,
                    money.gateway,
                    policy=policy,
                    service="dtc:P0301",
                    authorised_amount=amount * NEOT,
                    opened_by="claim",
                    royalty_address=money.royalty,
                )
                for amount in (40, 25, 10)
            ]
            await submit_invoice(session, money.gateway, job=jobs[0], amount=33 * NEOT)
            await approve(session, money.gateway, job=jobs[0], reason="approved")
            await fail(session, money.gateway, job=jobs[1], reason="disputed")
            held = sum(balances(session, prefix="escrow:").values())
            assert held == (300 - 60) * NEOT + 10 * NEOT  # deposit left + the job still locked
            assert await money.gateway.balance_of(money.gateway.escrow_address) == held
            report = await reconcile(session, money.gateway, exclusive_escrow=True)
            assert report.differences == []
            plain = await reconcile(session, money.gateway)
            assert report.accounts_checked == plain.accounts_checked + 1
            # NEOT locked in this escrow by someone this ledger does not know: only the whole-escrow
            # check can see it
            await money.client.lock_job(money.insurer, "stranger-job", money.royalty, 5 * NEOT)
            assert (await reconcile(session, money.gateway)).differences == []
            (stray,) = (await reconcile(session, money.gateway, exclusive_escrow=True)).differences
            assert (stray.ledger, stray.chain) == (held, held + 5 * NEOT)

    money.run(flows())

"""Helpers for the payments and repair tests: fresh funded accounts on the shared test chain, a
gateway that signs for them, and a database holding one insurer, driver, vehicle and policy.

Every test gets its own insurer, shops and royalty account (new keys), so track records and
balances read from the session-wide chain belong to that test alone.
"""

import asyncio
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from uuid import uuid4

from neo3.wallet.account import Account
from sqlalchemy.orm import Session, sessionmaker

from chain import ChainClient, ContractCall, committee_account, to_script_hash
from insurer_api.payments import EscrowGateway
from insurer_api.payments._premiums import policy_chain_id
from models import Driver, Insurer, Policy, PolicyStatus, RepairShop, Statement, Vehicle
from tests.chain_fixtures import DeployedChain

NEOT = 10**8
GAS = 10**8


@dataclass
class MoneyWorld:
    """One insurer with NEOT and GAS, a driver with a policy, a royalty account, a gateway."""

    chain: DeployedChain
    gateway: EscrowGateway
    factory: sessionmaker[Session]
    insurer: Account
    driver: Account
    royalty: str
    insurer_id: int
    policy_id: int

    @property
    def client(self) -> ChainClient:
        return self.chain.client

    def run[T](self, coro: "asyncio.Future[T] | object") -> T:
        result: T = asyncio.run(coro)  # type: ignore[arg-type]
        return result

    def add_shop(
        self,
        session: Session,
        *,
        services: Sequence[str] = ("dtc:P03*",),
        capacity: int = 3,
        address: str | None = None,
    ) -> RepairShop:
        shop = RepairShop(
            name=f"shop {uuid4().hex[:6]}",
            neo_address=address or Account.create_new().address,
            services=list(services),
            capacity=capacity,
        )
        session.add(shop)
        session.commit()
        return shop

    def add_statement(self, session: Session, *, premium: int, month: int) -> Statement:
        """A statement for `month` of 2026 as the statements code would issue it."""
        start = date(2026, month, 1)
        statement = Statement(
            policy_id=self.policy_id,
            period_start=start,
            period_end=start + timedelta(days=27),
            distance_m=1_000_000,
            trip_count=30,
            driver_score=80,
            risk_factor="1.000",
            model_version=1,
            model_sha256="0" * 64,
            base_premium=premium,
            premium=premium,
            statement_sha256=hashlib.sha256(f"{uuid4()}".encode()).digest(),
        )
        session.add(statement)
        session.commit()
        return statement

    def policy_chain_id(self) -> str:
        return policy_chain_id(insurer_address=self.insurer.address, policy_id=self.policy_id)

    async def deposit(self, amount: int, *, cap: int) -> str:
        """The driver deposits NEOT in escrow for the policy; returns the transaction hash."""
        receipt = await self.client.deposit_premium(
            self.driver,
            self.policy_chain_id(),
            operator=self.insurer.address,
            amount=amount,
            cap_per_period=cap,
            end=datetime(2027, 12, 31, tzinfo=UTC),
        )
        return receipt.tx_hash

    async def seed_history(self, shop: str, *, ok: int, failed: int = 0) -> None:
        await seed_history(self.client, self.insurer, shop, ok=ok, failed=failed)


async def seed_history(client: ChainClient, insurer: Account, shop: str, *, ok: int, failed: int = 0) -> None:
    """Give `shop` a public record: `ok` released (1 NEOT each, no royalty) and `failed` refunded jobs,
    all in two transactions signed by `insurer`."""
    escrow = client.contracts.escrow
    ids = [uuid4().hex for _ in range(ok + failed)]
    locks = [client.neot_transfer_call(insurer, escrow, NEOT, ["job", i.encode(), to_script_hash(shop)]) for i in ids]
    await client.send(insurer, *locks, operation="seed locks")
    settles = [
        ContractCall(escrow, "release", [i.encode(), to_script_hash(shop), NEOT, insurer.script_hash, 0])
        for i in ids[:ok]
    ] + [ContractCall(escrow, "refund", [i.encode()]) for i in ids[ok:]]
    await client.send(insurer, *settles, operation="seed settlements")


async def _fund(chain: DeployedChain, accounts: Sequence[Account], *, neot: int, gas: int) -> None:
    client = chain.client
    treasury = chain.account("treasury")
    await client.send(treasury, *[client.neot_transfer_call(treasury, a.address, neot) for a in accounts])
    committee = committee_account()
    for account in accounts:
        await client.transfer_gas(committee, account.address, gas)


def funded_accounts(chain: DeployedChain, count: int) -> list[Account]:
    """`count` new accounts, each with 10,000 NEOT and 50 GAS."""
    accounts = [Account.create_new() for _ in range(count)]
    asyncio.run(_fund(chain, accounts, neot=10_000 * NEOT, gas=50 * GAS))
    return accounts


def make_gateway(chain: DeployedChain, *signers: Account) -> EscrowGateway:
    """A gateway to the test chain's escrow, signing as `signers`."""
    return EscrowGateway(
        rpc_url=chain.deployment.rpc_url,
        token_hash=chain.deployment.contracts.token,
        escrow_hash=chain.deployment.contracts.escrow,
        signers={a.address: a for a in signers},
    )


def build_money_world(chain: DeployedChain, factory: sessionmaker[Session]) -> MoneyWorld:
    """Fresh insurer and driver keys funded on chain, and the database rows that name them."""
    insurer, driver = funded_accounts(chain, 2)
    gateway = make_gateway(chain, insurer)
    with factory() as session:
        ins = Insurer(name=f"Insurer {uuid4().hex[:8]}", neo_address=insurer.address)
        drv = Driver(name="Dana Driver", email=f"{uuid4().hex[:8]}@neot.test", neo_address=driver.address)
        session.add_all([ins, drv])
        session.flush()
        vehicle = Vehicle(driver_id=drv.id, vin=uuid4().hex[:17].upper())
        session.add(vehicle)
        session.flush()
        policy = Policy(
            insurer_id=ins.id,
            driver_id=drv.id,
            vehicle_id=vehicle.id,
            product_id="standard",
            product_version=1,
            period_start=date(2026, 1, 1),
            period_end=date(2026, 12, 31),
            base_premium=50 * NEOT,
            status=PolicyStatus.ACTIVE,
        )
        session.add(policy)
        session.commit()
        ids = (ins.id, policy.id)
    return MoneyWorld(
        chain=chain,
        gateway=gateway,
        factory=factory,
        insurer=insurer,
        driver=driver,
        royalty=Account.create_new().address,
        insurer_id=ids[0],
        policy_id=ids[1],
    )

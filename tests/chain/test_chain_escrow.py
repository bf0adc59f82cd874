"""Escrow: repair jobs (lock, release, refund) and premium deposits (deposit, charge, withdraw).

Every value move is checked against balances read back from the chain, and every way of taking
money out of turn (wrong signer, second settlement, over-payout, calls out of order, payments that
bypass the token) must FAULT without moving anything.
"""

import asyncio
import hashlib
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from chain import ChainClient, ContractCall, ContractFault, JobEventKind, JobState
from tests.chain_fixtures import DeployedChain

pytestmark = [pytest.mark.anyio, pytest.mark.chain]

NEOT = 10**8


def _id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


async def _balances(client: ChainClient, *addresses: str) -> list[int]:
    return [await client.neot_balance(address) for address in addresses]


# ---------------------------------------------------------------- repair jobs


async def test_lock_then_release_pays_shop_royalty_and_returns_the_rest(neot_chain: DeployedChain) -> None:
    client, c = neot_chain.client, neot_chain
    insurer, shop, royalty = c.account("insurer-1"), c.address("shop-1"), c.address("royalty")
    escrow = f"0x{c.deployment.contracts.escrow}"
    job = _id("job")
    start = await client.block_height()
    before = await _balances(client, insurer.address, shop, royalty, escrow)

    locked = await client.lock_job(insurer, job, shop, 500 * NEOT)
    assert [n.event_name for n in locked.notifications] == ["Transfer", "JobLocked"]
    assert await client.get_job(job) == (await client.get_job(job))
    record = await client.get_job(job)
    assert record is not None
    assert (record.insurer, record.shop, record.amount, record.state) == (
        insurer.address,
        shop,
        500 * NEOT,
        JobState.LOCKED,
    )
    assert await _balances(client, insurer.address, escrow) == [before[0] - 500 * NEOT, before[3] + 500 * NEOT]

    await client.release_job(
        insurer, job, shop=shop, shop_amount=380 * NEOT, royalty_account=royalty, royalty_amount=20 * NEOT
    )
    after = await _balances(client, insurer.address, shop, royalty, escrow)
    assert after == [before[0] - 400 * NEOT, before[1] + 380 * NEOT, before[2] + 20 * NEOT, before[3]]
    record = await client.get_job(job)
    assert record is not None and record.state is JobState.RELEASED

    page = await client.job_events(from_block=start, shop=shop)
    mine = [e for e in page.events if e.job_id == job]
    assert [e.kind for e in mine] == [JobEventKind.LOCKED, JobEventKind.RELEASED]
    released = mine[1]
    assert (released.outcome, released.amount, released.royalty_account, released.royalty_amount) == (
        "completed",
        380 * NEOT,
        royalty,
        20 * NEOT,
    )
    assert released.returned_amount == 100 * NEOT
    assert released.insurer == insurer.address


async def test_refund_returns_everything_and_is_recorded_as_failed(neot_chain: DeployedChain) -> None:
    client, c = neot_chain.client, neot_chain
    insurer, shop = c.account("insurer-1"), c.address("shop-2")
    job = _id("job")
    start = await client.block_height()
    [before] = await _balances(client, insurer.address)
    await client.lock_job(insurer, job, shop, 70 * NEOT)
    receipt = await client.refund_job(insurer, job)
    assert await _balances(client, insurer.address, shop) == [before, await client.neot_balance(shop)]
    assert [n.event_name for n in receipt.notifications] == ["Transfer", "JobRefunded"]
    events = [e for e in (await client.job_events(from_block=start)).events if e.job_id == job]
    assert [(e.kind, e.outcome, e.amount, e.shop) for e in events] == [
        (JobEventKind.LOCKED, None, 70 * NEOT, shop),
        (JobEventKind.REFUNDED, "failed", 70 * NEOT, shop),
    ]
    record = await client.get_job(job)
    assert record is not None and record.state is JobState.REFUNDED


async def test_track_record_counts_only_that_shops_jobs(neot_chain: DeployedChain) -> None:
    client, c = neot_chain.client, neot_chain
    insurer = c.account("insurer-1")
    shop, other = c.address("shop-3"), c.address("shop-2")
    start = await client.block_height()
    done, failed, elsewhere = _id("ok"), _id("ko"), _id("other")
    await client.lock_job(insurer, done, shop, 10 * NEOT)
    await client.lock_job(insurer, failed, shop, 10 * NEOT)
    await client.lock_job(insurer, elsewhere, other, 10 * NEOT)
    await client.release_job(
        insurer, done, shop=shop, shop_amount=10 * NEOT, royalty_account=c.address("royalty"), royalty_amount=0
    )
    await client.refund_job(insurer, failed)
    page = await client.job_events(from_block=start, shop=shop)
    assert {e.job_id for e in page.events} == {done, failed}
    settled = {e.job_id: e.outcome for e in page.events if e.kind is not JobEventKind.LOCKED}
    assert settled == {done: "completed", failed: "failed"}
    assert page.next_block > start


async def test_a_track_record_scan_spans_more_blocks_than_one_rpc_batch(neot_chain: DeployedChain) -> None:
    """A shop's whole history is read from block 0; neo-go refuses RPC batches over 100 requests."""
    client, c = neot_chain.client, neot_chain
    insurer, shop = c.account("insurer-1"), c.address("shop-1")
    job = _id("old")
    await client.lock_job(insurer, job, shop, 5 * NEOT)
    while await client.block_height() < 250:  # 100 ms blocks: at most a few seconds on a new chain
        await asyncio.sleep(0.2)
    page = await client.job_events(from_block=0, shop=shop)
    assert job in {e.job_id for e in page.events if e.kind is JobEventKind.LOCKED}
    assert page.next_block >= 250


async def test_paying_out_more_than_locked_faults(neot_chain: DeployedChain) -> None:
    client, c = neot_chain.client, neot_chain
    insurer, shop, royalty = c.account("insurer-1"), c.address("shop-1"), c.address("royalty")
    job = _id("job")
    await client.lock_job(insurer, job, shop, 100 * NEOT)
    with pytest.raises(ContractFault, match="payout exceeds the locked amount"):
        await client.release_job(
            insurer, job, shop=shop, shop_amount=90 * NEOT, royalty_account=royalty, royalty_amount=11 * NEOT
        )
    with pytest.raises(ContractFault, match="payout exceeds the locked amount"):
        await client.release_job(
            insurer, job, shop=shop, shop_amount=101 * NEOT, royalty_account=royalty, royalty_amount=0
        )
    with pytest.raises(ContractFault, match="royalty amount must not be negative"):
        await client.release_job(
            insurer, job, shop=shop, shop_amount=110 * NEOT, royalty_account=royalty, royalty_amount=-10 * NEOT
        )
    record = await client.get_job(job)
    assert record is not None and record.state is JobState.LOCKED


@pytest.mark.parametrize(
    ("first", "second"),
    [("release", "release"), ("release", "refund"), ("refund", "refund"), ("refund", "release")],
)
async def test_a_job_settles_once(neot_chain: DeployedChain, first: str, second: str) -> None:
    client, c = neot_chain.client, neot_chain
    insurer, shop, royalty = c.account("insurer-1"), c.address("shop-1"), c.address("royalty")
    job = _id("job")
    await client.lock_job(insurer, job, shop, 40 * NEOT)

    async def settle(how: str) -> None:
        if how == "release":
            await client.release_job(
                insurer, job, shop=shop, shop_amount=30 * NEOT, royalty_account=royalty, royalty_amount=0
            )
        else:
            await client.refund_job(insurer, job)

    await settle(first)
    [insurer_before, shop_before] = await _balances(client, insurer.address, shop)
    with pytest.raises(ContractFault, match="job is not locked"):
        await settle(second)
    assert await _balances(client, insurer.address, shop) == [insurer_before, shop_before]


async def test_only_the_locking_insurer_settles(neot_chain: DeployedChain) -> None:
    client, c = neot_chain.client, neot_chain
    shop_account, royalty = c.account("shop-1"), c.address("royalty")
    job = _id("job")
    await client.lock_job(c.account("insurer-1"), job, shop_account.address, 60 * NEOT)
    for stranger in (c.account("insurer-2"), shop_account, c.account("treasury")):
        with pytest.raises(ContractFault, match="only the insurer that locked the job"):
            await client.release_job(
                stranger,
                job,
                shop=shop_account.address,
                shop_amount=60 * NEOT,
                royalty_account=royalty,
                royalty_amount=0,
            )
        with pytest.raises(ContractFault, match="only the insurer that locked the job"):
            await client.refund_job(stranger, job)
    record = await client.get_job(job)
    assert record is not None and record.state is JobState.LOCKED


async def test_release_goes_only_to_the_locked_shop(neot_chain: DeployedChain) -> None:
    client, c = neot_chain.client, neot_chain
    insurer = c.account("insurer-1")
    job = _id("job")
    await client.lock_job(insurer, job, c.address("shop-1"), 25 * NEOT)
    with pytest.raises(ContractFault, match="shop differs"):
        await client.release_job(
            insurer,
            job,
            shop=c.address("shop-4"),
            shop_amount=25 * NEOT,
            royalty_account=c.address("royalty"),
            royalty_amount=0,
        )


async def test_job_ids_are_never_reused(neot_chain: DeployedChain) -> None:
    client, c = neot_chain.client, neot_chain
    job = _id("job")
    await client.lock_job(c.account("insurer-1"), job, c.address("shop-1"), 5 * NEOT)
    await client.refund_job(c.account("insurer-1"), job)
    for insurer in ("insurer-1", "insurer-2"):
        with pytest.raises(ContractFault, match="job id already used"):
            await client.lock_job(c.account(insurer), job, c.address("shop-2"), 5 * NEOT)


async def test_settling_an_unknown_job_faults(neot_chain: DeployedChain) -> None:
    client, c = neot_chain.client, neot_chain
    with pytest.raises(ContractFault, match="job is not locked"):
        await client.refund_job(c.account("insurer-1"), _id("never-locked"))
    assert await client.get_job(_id("never-locked")) is None


async def test_payments_that_bypass_the_token_fault(neot_chain: DeployedChain) -> None:
    """Calling onNEP17Payment directly would credit a deposit without paying: it must FAULT."""
    client, c = neot_chain.client, neot_chain
    insurer = c.account("insurer-1")
    escrow = c.deployment.contracts.escrow
    job = _id("forged")
    forged = ContractCall(
        escrow,
        "onNEP17Payment",
        [insurer.script_hash, 1_000 * NEOT, ["job", job.encode(), c.deployment.script_hash("shop-1")]],
    )
    with pytest.raises(ContractFault, match="only NEOT is accepted"):
        await client.send(insurer, forged)
    assert await client.get_job(job) is None
    with pytest.raises(ContractFault):
        await client.transfer_gas(insurer, escrow, NEOT)


@pytest.mark.parametrize(
    "data",
    [
        None,
        "job",
        ["job"],
        ["job", b"x"],
        ["loan", b"x", b"\x00" * 20],
        ["job", b"", b"\x00" * 20],
        ["job", b"x" * 65, b"\x00" * 20],
    ],
)
async def test_malformed_payment_data_is_refused(neot_chain: DeployedChain, data: object) -> None:
    client, c = neot_chain.client, neot_chain
    insurer = c.account("insurer-1")
    [before] = await _balances(client, insurer.address)
    with pytest.raises(ContractFault):
        await client.transfer_neot(insurer, c.deployment.contracts.escrow, NEOT, data=data)  # type: ignore[arg-type]
    assert await _balances(client, insurer.address) == [before]


# ---------------------------------------------------------------- premiums


async def _deposit(
    c: DeployedChain, policy: str, *, amount: int, cap: int, end: datetime, driver: str = "driver-1"
) -> None:
    await c.client.deposit_premium(
        c.account(driver), policy, operator=c.address("insurer-1"), amount=amount, cap_per_period=cap, end=end
    )


async def test_deposit_charge_and_statement_event(neot_chain: DeployedChain) -> None:
    client, c = neot_chain.client, neot_chain
    policy = _id("pol")
    driver, operator = c.account("driver-1"), c.account("insurer-1")
    end = datetime.now(UTC) + timedelta(days=30)
    start = await client.block_height()
    [driver_before, operator_before] = await _balances(client, driver.address, operator.address)
    await _deposit(c, policy, amount=300 * NEOT, cap=120 * NEOT, end=end)
    stored = await client.get_policy(policy)
    assert stored is not None
    assert (stored.driver, stored.operator, stored.cap_per_period, stored.balance) == (
        driver.address,
        operator.address,
        120 * NEOT,
        300 * NEOT,
    )
    assert abs((stored.end - end).total_seconds()) < 0.001

    statement = hashlib.sha256(b"statement 2026-11").digest()
    await client.charge_premium(operator, policy, period=202611, amount=95 * NEOT, statement_hash=statement)
    assert await _balances(client, driver.address, operator.address) == [
        driver_before - 300 * NEOT,
        operator_before + 95 * NEOT,
    ]
    assert await client.is_charged(policy, 202611)
    assert not await client.is_charged(policy, 202612)
    stored = await client.get_policy(policy)
    assert stored is not None and stored.balance == 205 * NEOT
    charges = (await client.premium_charges(from_block=start, policy_id=policy)).events
    assert [(e.period, e.amount, e.statement_hash, e.driver, e.operator) for e in charges] == [
        (202611, 95 * NEOT, statement, driver.address, operator.address)
    ]


async def test_charge_rules(neot_chain: DeployedChain) -> None:
    client, c = neot_chain.client, neot_chain
    policy = _id("pol")
    operator = c.account("insurer-1")
    statement = hashlib.sha256(b"s").digest()
    await _deposit(c, policy, amount=150 * NEOT, cap=100 * NEOT, end=datetime.now(UTC) + timedelta(days=1))
    with pytest.raises(ContractFault, match="exceeds the cap"):
        await client.charge_premium(operator, policy, period=1, amount=100 * NEOT + 1, statement_hash=statement)
    await client.charge_premium(operator, policy, period=1, amount=100 * NEOT, statement_hash=statement)
    with pytest.raises(ContractFault, match="period already charged"):
        await client.charge_premium(operator, policy, period=1, amount=1, statement_hash=statement)
    with pytest.raises(ContractFault, match="exceeds the deposit"):
        await client.charge_premium(operator, policy, period=2, amount=51 * NEOT, statement_hash=statement)
    with pytest.raises(ContractFault, match="statement hash must be 32 bytes"):
        await client.charge_premium(operator, policy, period=2, amount=NEOT, statement_hash=b"short")
    with pytest.raises(ContractFault, match="amount must be positive"):
        await client.charge_premium(operator, policy, period=2, amount=0, statement_hash=statement)
    for stranger in ("driver-1", "insurer-2", "shop-1"):
        with pytest.raises(ContractFault, match="only the policy's operator"):
            await client.charge_premium(c.account(stranger), policy, period=2, amount=NEOT, statement_hash=statement)
    with pytest.raises(ContractFault, match="unknown policy"):
        await client.charge_premium(operator, _id("nopol"), period=1, amount=NEOT, statement_hash=statement)
    stored = await client.get_policy(policy)
    assert stored is not None and stored.balance == 50 * NEOT


async def test_top_ups_must_repeat_the_terms_and_come_from_the_driver(neot_chain: DeployedChain) -> None:
    client, c = neot_chain.client, neot_chain
    policy = _id("pol")
    end = datetime.now(UTC) + timedelta(days=1)
    await _deposit(c, policy, amount=10 * NEOT, cap=5 * NEOT, end=end)
    await _deposit(c, policy, amount=7 * NEOT, cap=5 * NEOT, end=end)
    with pytest.raises(ContractFault, match="cap differs"):
        await _deposit(c, policy, amount=NEOT, cap=50 * NEOT, end=end)
    with pytest.raises(ContractFault, match="end differs"):
        await _deposit(c, policy, amount=NEOT, cap=5 * NEOT, end=end + timedelta(days=1))
    with pytest.raises(ContractFault, match="policy belongs to another driver"):
        await _deposit(c, policy, amount=NEOT, cap=5 * NEOT, end=end, driver="driver-2")
    stored = await client.get_policy(policy)
    assert stored is not None and stored.balance == 17 * NEOT
    with pytest.raises(ContractFault, match="policy end must be in the future"):
        await _deposit(c, _id("pol"), amount=NEOT, cap=NEOT, end=datetime.now(UTC) - timedelta(minutes=1))


async def test_withdraw_only_by_the_driver_after_the_end(neot_chain: DeployedChain) -> None:
    client, c = neot_chain.client, neot_chain
    policy = _id("pol")
    driver, operator = c.account("driver-2"), c.account("insurer-1")
    end = (await client.block_time()) + timedelta(seconds=1.5)
    await _deposit(c, policy, amount=40 * NEOT, cap=15 * NEOT, end=end, driver="driver-2")
    await client.charge_premium(operator, policy, period=7, amount=15 * NEOT, statement_hash=bytes(32))
    with pytest.raises(ContractFault, match="policy has not ended"):
        await client.withdraw_premium(driver, policy)
    while await client.block_time() < end:
        await asyncio.sleep(0.1)
    with pytest.raises(ContractFault, match="only the depositing driver"):
        await client.withdraw_premium(operator, policy)
    [before] = await _balances(client, driver.address)
    await client.withdraw_premium(driver, policy)
    assert await _balances(client, driver.address) == [before + 25 * NEOT]
    with pytest.raises(ContractFault, match="nothing to withdraw"):
        await client.withdraw_premium(driver, policy)
    with pytest.raises(ContractFault, match="exceeds the deposit"):
        await client.charge_premium(operator, policy, period=8, amount=NEOT, statement_hash=bytes(32))


async def test_escrow_holds_exactly_what_it_owes(neot_chain: DeployedChain) -> None:
    """After a mixed sequence, the escrow's NEOT equals open job amounts plus policy balances."""
    client, c = neot_chain.client, neot_chain
    escrow = f"0x{c.deployment.contracts.escrow}"
    [before] = await _balances(client, escrow)
    insurer = c.account("insurer-1")
    open_job, paid_job, policy = _id("open"), _id("paid"), _id("pol")
    await client.lock_job(insurer, open_job, c.address("shop-1"), 33 * NEOT)
    await client.lock_job(insurer, paid_job, c.address("shop-1"), 50 * NEOT)
    await client.release_job(
        insurer,
        paid_job,
        shop=c.address("shop-1"),
        shop_amount=45 * NEOT,
        royalty_account=c.address("royalty"),
        royalty_amount=5 * NEOT,
    )
    await _deposit(c, policy, amount=80 * NEOT, cap=30 * NEOT, end=datetime.now(UTC) + timedelta(days=1))
    await client.charge_premium(insurer, policy, period=1, amount=30 * NEOT, statement_hash=bytes(32))
    assert await _balances(client, escrow) == [before + 33 * NEOT + 50 * NEOT]

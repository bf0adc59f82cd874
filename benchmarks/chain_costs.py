"""GAS cost of every NEOT chain operation, and transactions per second to inclusion on a local node.

A private neo-go node (in-memory, 100 ms blocks) gets the three contracts from a throwaway
deployer, then each operation runs once through `ChainClient` and its receipt gives the fees paid
(system fee = execution, network fee = size and signature check). The baseline, measured in the
same run, is a plain GAS transfer: every cost is also shown as a multiple of it.

Throughput: N transfers are submitted concurrently and timed until every one is included and
HALTed (the client's full pipeline: test invocation, signing, send, poll of the application log);
NEOT transfers are compared with GAS transfers measured the same way, and the median latency of
one transfer submitted alone is shown too.

Run: `.venv/bin/python benchmarks/chain_costs.py [--transfers N]`.
"""

import argparse
import asyncio
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path

from neo3.wallet import account as neo_account
from rich.console import Console
from rich.table import Table

from chain import (
    ChainClient,
    ContractHashes,
    ContractName,
    NeoGoNode,
    TxReceipt,
    committee_account,
    find_free_port,
    load_contract,
)

GAS = 10**8
NEOT = 10**8


def _gas(amount: int) -> str:
    return f"{amount / GAS:.5f}"


async def _throughput(count: int, submit: Callable[[int], Awaitable[TxReceipt]]) -> tuple[float, int]:
    """Transactions per second from the first submission to the last inclusion, and blocks used."""
    started = time.perf_counter()
    receipts = await asyncio.gather(*(submit(i) for i in range(count)))
    elapsed = time.perf_counter() - started
    return count / elapsed, len({r.block_index for r in receipts})


async def _latency_ms(samples: int, submit: Callable[[int], Awaitable[TxReceipt]]) -> float:
    timings = []
    for i in range(samples):
        started = time.perf_counter()
        await submit(i)
        timings.append((time.perf_counter() - started) * 1000)
    return statistics.median(timings)


async def run(rpc_url: str, transfers: int) -> None:
    console = Console(width=110)
    committee = committee_account()
    bare = ChainClient(rpc_url)
    deployer, anchorer, insurer, driver, shop, royalty = (neo_account.Account.create_new() for _ in range(6))
    for account in (deployer, anchorer, insurer, driver, shop, royalty):
        await bare.transfer_gas(committee, account.address, 1_000 * GAS)

    costs: list[tuple[str, TxReceipt]] = []
    token_hash, receipt = await bare.deploy_contract(deployer, load_contract(ContractName.TOKEN))
    costs.append(("deploy NEOT token", receipt))
    anchor_hash, receipt = await bare.deploy_contract(
        deployer, load_contract(ContractName.ANCHOR), anchorer.script_hash
    )
    costs.append(("deploy score anchor", receipt))
    escrow_hash, receipt = await bare.deploy_contract(deployer, load_contract(ContractName.ESCROW), token_hash)
    costs.append(("deploy escrow", receipt))
    client = ChainClient(rpc_url, ContractHashes(token=token_hash, anchor=anchor_hash, escrow=escrow_hash))

    baseline = await client.transfer_gas(insurer, shop.address, GAS)
    costs.append(("GAS transfer (baseline)", baseline))
    costs.append(("NEOT transfer", await client.transfer_neot(deployer, insurer.address, 1_000_000 * NEOT)))
    await client.transfer_neot(deployer, driver.address, 10_000 * NEOT)
    costs.append(
        ("NEOT transfer with data", await client.transfer_neot(insurer, shop.address, NEOT, data="invoice 2026-0042"))
    )
    costs.append(("anchor epoch root", await client.anchor(anchorer, 0, bytes(range(32)), 10_000)))
    costs.append(("lock repair job", await client.lock_job(insurer, "job-1", shop.address, 500 * NEOT)))
    costs.append(
        (
            "release job (shop + royalty + rest)",
            await client.release_job(
                insurer,
                "job-1",
                shop=shop.address,
                shop_amount=380 * NEOT,
                royalty_account=royalty.address,
                royalty_amount=20 * NEOT,
            ),
        )
    )
    await client.lock_job(insurer, "job-2", shop.address, 500 * NEOT)
    costs.append(("refund job", await client.refund_job(insurer, "job-2")))
    end = await client.block_time() + timedelta(seconds=2)
    costs.append(
        (
            "deposit premium",
            await client.deposit_premium(
                driver, "policy-1", operator=insurer.address, amount=300 * NEOT, cap_per_period=120 * NEOT, end=end
            ),
        )
    )
    costs.append(
        (
            "charge premium",
            await client.charge_premium(insurer, "policy-1", period=202611, amount=95 * NEOT, statement_hash=bytes(32)),
        )
    )
    while await client.block_time() < end:
        await asyncio.sleep(0.1)
    costs.append(("withdraw premium", await client.withdraw_premium(driver, "policy-1")))

    table = Table(title="GAS per operation (local neo-go 0.116, fees paid by the sender)")
    for column in ("operation", "system fee", "network fee", "total GAS", "ratio vs GAS transfer"):
        table.add_column(column, justify="left" if column == "operation" else "right")
    for name, receipt in costs:
        table.add_row(
            name,
            _gas(receipt.system_fee),
            _gas(receipt.network_fee),
            _gas(receipt.gas_cost),
            f"{receipt.gas_cost / baseline.gas_cost:.2f}",
        )
    console.print(table)

    gas_tps, gas_blocks = await _throughput(transfers, lambda i: client.transfer_gas(insurer, shop.address, 1 + i))
    neot_tps, neot_blocks = await _throughput(transfers, lambda i: client.transfer_neot(insurer, shop.address, 1 + i))
    gas_ms = await _latency_ms(10, lambda i: client.transfer_gas(insurer, shop.address, 1 + i))
    neot_ms = await _latency_ms(10, lambda i: client.transfer_neot(insurer, shop.address, 1 + i))
    speed = Table(title=f"Transactions to inclusion ({transfers} submitted at once; 100 ms blocks)")
    for column in ("transaction", "tx/s", "blocks used", "median latency alone (ms)", "ratio vs GAS transfer tx/s"):
        speed.add_column(column, justify="left" if column == "transaction" else "right")
    speed.add_row("GAS transfer (baseline)", f"{gas_tps:.1f}", str(gas_blocks), f"{gas_ms:.0f}", "1.00")
    speed.add_row("NEOT transfer", f"{neot_tps:.1f}", str(neot_blocks), f"{neot_ms:.0f}", f"{neot_tps / gas_tps:.2f}")
    console.print(speed)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--transfers", type=int, default=40, help="transfers submitted at once (mempool holds 100)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="neot-bench-") as home:
        node = NeoGoNode(Path(home), rpc_port=find_free_port(), persistent=False)
        node.start()
        try:
            asyncio.run(run(node.rpc_url, args.transfers))
        finally:
            node.stop()


if __name__ == "__main__":
    main()

"""Merkle epochs at scale: one epoch of 1,000,000 committed records.

Figures, each with a baseline measured in the same run:

- build time of the RFC 6962 tree over 1,000,000 leaves (`salt ‖ canonical record`; target < 3 s),
  against raw hashlib: one SHA-256 per leaf and nothing else;
- audit path length (target ≤ 21 hashes), against ceil(log2 n), the least any binary tree needs;
- verification time of one proof without the RPC call (target < 50 µs): `verify()` of a parsed
  proof against a chain view (leaf and path hashing, every comparison), and the same including
  parsing the JSON document; against the raw SHA-256 calls such a check cannot avoid (path + 1);
- chain cost per anchored record: the GAS of the real anchor transaction (signed and sent by the
  service's `AnchorChain` to a local neo-go node) divided by the leaves; against anchoring each
  record in its own transaction (one anchor tx with leaf_count 1, same run).

Run: `.venv/bin/python benchmarks/merkle.py [--leaves N]`.
"""

import argparse
import asyncio
import hashlib
import math
import os
import random
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from neo3.wallet import account as neo_account
from rich.console import Console
from rich.table import Table

from chain import ChainClient, ContractName, NeoGoNode, committee_account, find_free_port, load_contract
from protocol import (
    Anchor,
    AnchoredEvent,
    ChainView,
    Inclusion,
    MerkleTree,
    Proof,
    TxView,
    canonical_json,
    parse_json,
    verify,
)
from scoring_service.anchoring.service import AnchorChain

GAS = 10**8


def _records(count: int) -> list[bytes]:
    """`salt ‖ canonical_json(record)` for `count` trip-score-like records."""
    return [
        os.urandom(32)
        + canonical_json(
            {
                "type": "trip_score",
                "trip_id": i,
                "score": i % 101,
                "product_id": "phyd",
                "product_version": 1,
                "distance_m": 1000 + i % 50_000,
                "duration_ms": 60_000 + i % 3_600_000,
            }
        )
        for i in range(count)
    ]


def _best_of(runs: int, work: Callable[[], object]) -> float:
    """The fastest of `runs` timings: the least disturbed by other load on the machine."""
    timings = []
    for _ in range(runs):
        started = time.perf_counter()
        work()
        timings.append(time.perf_counter() - started)
    return min(timings)


async def _anchor_costs(rpc_url: str, root: bytes, leaves: int) -> tuple[int, int]:
    """GAS paid for anchoring `root` with `leaves` leaves, and for a 1-leaf epoch (the baseline)."""
    bare = ChainClient(rpc_url)
    deployer, anchorer = neo_account.Account.create_new(), neo_account.Account.create_new()
    for account in (deployer, anchorer):
        await bare.transfer_gas(committee_account(), account.address, 100 * GAS)
    contract, _ = await bare.deploy_contract(deployer, load_contract(ContractName.ANCHOR), anchorer.script_hash)
    chain = AnchorChain(rpc_url, contract=contract, signer=anchorer)
    paid = []
    for epoch, (epoch_root, count) in enumerate(((root, leaves), (hashlib.sha256(root).digest(), 1))):
        signed = await chain.sign_anchor(epoch, epoch_root, count)
        await chain.broadcast(signed.raw)
        while (outcome := await chain.outcome(signed.tx_hash)) is None:
            await asyncio.sleep(0.05)
        if outcome.vm_state != "HALT":
            raise RuntimeError(f"anchor transaction {signed.tx_hash} ended in {outcome.vm_state}")
        paid.append(outcome.gas_paid)
    return paid[0], paid[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--leaves", type=int, default=1_000_000)
    args = parser.parse_args()
    n = args.leaves
    console = Console(width=120)
    console.print(f"preparing {n:,} committed records …", style="dim")
    leaves = _records(n)

    raw_s = _best_of(3, lambda: [hashlib.sha256(leaf).digest() for leaf in leaves])
    tree = MerkleTree.from_leaves(leaves)
    build_s = _best_of(3, lambda: MerkleTree.from_leaves(leaves))

    rng = random.Random(1)
    indices = [0, n - 1, n // 2, *rng.sample(range(n), 1000)]
    longest = max(len(tree.audit_path(i)) for i in indices)
    least = math.ceil(math.log2(n))

    index = rng.randrange(n)
    record = parse_json(leaves[index][32:])
    anchor = Anchor(42, "0x" + "ab" * 20, "0x" + "cd" * 32, 1234)
    proof = Proof(record, leaves[index][:32], Inclusion(0, index, n, tree.audit_path(index), tree.root), anchor)
    document = proof.to_json()
    tx = TxView("HALT", 1234, (AnchoredEvent(anchor.contract, 0, tree.root),))
    view = ChainView(42, anchor.contract, True, 0, tree.root, tx)
    rounds = 20_000

    def verify_parsed() -> None:
        for _ in range(rounds):
            verify(proof, view)

    def verify_document() -> None:
        for _ in range(rounds):
            verify(Proof.from_json(document), view)

    verify_s = _best_of(5, verify_parsed) / rounds
    parse_verify_s = _best_of(5, verify_document) / rounds
    path_len = len(proof.inclusion.audit_path) if proof.inclusion else 0
    blocks = [os.urandom(65) for _ in range(path_len + 1)]
    hash_s = _best_of(5, lambda: [[hashlib.sha256(b).digest() for b in blocks] for _ in range(rounds)]) / rounds

    console.print("starting a local neo-go node to anchor the root …", style="dim")
    with tempfile.TemporaryDirectory(prefix="neot-bench-") as home:
        node = NeoGoNode(Path(home), rpc_port=find_free_port(), persistent=False)
        node.start()
        try:
            epoch_gas, single_gas = asyncio.run(_anchor_costs(node.rpc_url, tree.root, n))
        finally:
            node.stop()

    load = os.getloadavg()[0]
    table = Table(title=f"One epoch of {n:,} leaves (RFC 6962, SHA-256; load {load:.1f} on {os.cpu_count()} CPUs)")
    for column in ("figure", "value", "target", "baseline (same run)", "ratio vs baseline"):
        table.add_column(column, justify="left" if column in ("figure", "baseline (same run)") else "right")
    table.add_row(
        "tree build",
        f"{build_s:.2f} s",
        "< 3 s",
        f"raw hashlib, 1 SHA-256/leaf: {raw_s:.2f} s",
        f"{build_s / raw_s:.2f}",
    )
    table.add_row("audit path length", f"{longest} hashes", "≤ 21", f"ceil(log2 n) = {least}", f"{longest / least:.2f}")
    table.add_row(
        "verify one proof (no RPC)",
        f"{verify_s * 1e6:.1f} µs",
        "< 50 µs",
        f"{path_len + 1} raw SHA-256: {hash_s * 1e6:.1f} µs",
        f"{verify_s / hash_s:.2f}",
    )
    table.add_row(
        "  … from the JSON document",
        f"{parse_verify_s * 1e6:.1f} µs",
        "",
        f"{path_len + 1} raw SHA-256: {hash_s * 1e6:.1f} µs",
        f"{parse_verify_s / hash_s:.2f}",
    )
    table.add_row(
        "chain cost per record",
        f"{epoch_gas / n / GAS:.10f} GAS",
        "→ 0",
        f"1 anchor tx per record: {single_gas / GAS:.5f} GAS",
        f"{epoch_gas / n / single_gas:.2e}",
    )
    table.add_row("one anchor transaction", f"{epoch_gas / GAS:.5f} GAS", "", "", "")
    console.print(table)


if __name__ == "__main__":
    main()

"""Session-scoped NEO fixtures shared by every test package (registered in `tests/conftest.py`).

- `neo_node`: a private neo-go chain (in-memory, RPC on a free 127.0.0.1 port), one per xdist
  worker, stopped at the end of the session.
- `neot_chain`: the three NEOT contracts deployed on `neo_node` by `deploy_neot`, the demo
  accounts plus a few spare ones funded with GAS and NEOT, and a `ChainClient` ready to use.
  Shared by the whole session: use unique job and policy ids (e.g. `uuid4().hex`).
- `fresh_anchor_chain`: like `neot_chain` but with a score anchor of its own, deployed for the
  test, so a test may anchor any epochs from 0 without depending on test order.
"""

import asyncio
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from neo3.wallet import account as neo_account

from chain import (
    DEMO_ACCOUNTS,
    ChainClient,
    ContractName,
    Deployment,
    Keyring,
    NeoGoNode,
    committee_account,
    deploy_neot,
    find_free_port,
    load_contract,
)
from chain._deployment import PASSWORD_FILE, WALLET_FILE

__all__ = ["DeployedChain", "fresh_anchor_chain", "neo_node", "neot_chain"]

# Spare accounts for tests that need a second insurer, a stranger, or an extra driver or shop.
TEST_ACCOUNTS: tuple[str, ...] = (*DEMO_ACCOUNTS, "insurer-2", "driver-3", "shop-4")


@dataclass(frozen=True, slots=True)
class DeployedChain:
    """A running node with NEOT deployed: where it is, the signing keys, a client."""

    node: NeoGoNode
    deployment: Deployment
    keys: Keyring
    client: ChainClient

    @property
    def chain_dir(self) -> Path:
        """Folder with `deployment.json` and the wallet: what `Deployment.load` reads."""
        return self.deployment.chain_dir

    def account(self, label: str) -> neo_account.Account:
        """The signing account labelled `label` (`treasury`, `anchorer`, `insurer-1`, …)."""
        return self.keys.account(label)

    def address(self, label: str) -> str:
        return self.deployment.address(label)


@pytest.fixture(scope="session")
def neo_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NeoGoNode]:
    """A private neo-go node, in-memory, RPC on a free port; stopped after the session."""
    node = NeoGoNode(tmp_path_factory.mktemp("neo-node"), rpc_port=find_free_port(), persistent=False)
    node.start()
    try:
        yield node
    finally:
        node.stop()


@pytest.fixture(scope="session")
def neot_chain(neo_node: NeoGoNode, tmp_path_factory: pytest.TempPathFactory) -> DeployedChain:
    """NEOT contracts deployed on `neo_node`, accounts funded, client ready."""
    chain_dir = tmp_path_factory.mktemp("neot-chain")
    report = asyncio.run(
        deploy_neot(neo_node.rpc_url, chain_dir, committee_account(), labels=TEST_ACCOUNTS, fast_kdf=True)
    )
    deployment = report.deployment
    return DeployedChain(neo_node, deployment, deployment.keyring(), ChainClient.from_deployment(deployment))


@pytest.fixture
def fresh_anchor_chain(neot_chain: DeployedChain, tmp_path: Path) -> DeployedChain:
    """`neot_chain` with a score anchor of its own (same anchoring account), in its own chain dir."""

    async def deploy_anchor() -> Deployment:
        # a contract's hash follows from its deployer: a throwaway deployer gives a new anchor
        deployer = neo_account.Account.create_new()
        await neot_chain.client.transfer_gas(committee_account(), deployer.address, 20 * 10**8)
        anchorer = neot_chain.account("anchorer").script_hash
        anchor_hash, _ = await neot_chain.client.deploy_contract(deployer, load_contract(ContractName.ANCHOR), anchorer)
        contracts = replace(neot_chain.deployment.contracts, anchor=anchor_hash)
        return replace(neot_chain.deployment, chain_dir=tmp_path, contracts=contracts)

    deployment = asyncio.run(deploy_anchor())
    for name in (WALLET_FILE, PASSWORD_FILE):
        shutil.copy2(neot_chain.chain_dir / name, tmp_path / name)
    deployment.save()
    return DeployedChain(neot_chain.node, deployment, neot_chain.keys, ChainClient.from_deployment(deployment))

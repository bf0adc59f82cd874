"""NEOT token: supply, transfers, NEP-17 events and `data`, read back through the client and raw RPC."""

import httpx
import pytest

from chain import ContractCall, ContractFault
from tests.chain_fixtures import DeployedChain

pytestmark = [pytest.mark.anyio, pytest.mark.chain]

NEOT = 10**8


def _raw_neot_balance(chain: DeployedChain, address: str) -> int:
    """The balance as neo-go's NEP-17 tracker reports it, over plain JSON-RPC (no client code)."""
    request = {"jsonrpc": "2.0", "id": 1, "method": "getnep17balances", "params": [address]}
    answer = httpx.post(chain.deployment.rpc_url, json=request, timeout=10).json()["result"]
    token = f"0x{chain.deployment.contracts.token}"
    return sum(int(b["amount"]) for b in answer["balance"] if b["assethash"] == token)


async def test_metadata_and_fixed_supply(neot_chain: DeployedChain) -> None:
    client = neot_chain.client
    symbol = await client.call(ContractCall(neot_chain.deployment.contracts.token, "symbol"))
    assert symbol.as_str() == "NEOT"
    assert (await client.call(ContractCall(neot_chain.deployment.contracts.token, "decimals"))).as_int() == 8
    assert await client.neot_total_supply() == 100_000_000 * NEOT


async def test_transfer_moves_balance_and_matches_raw_rpc(neot_chain: DeployedChain) -> None:
    client = neot_chain.client
    sender, receiver = neot_chain.account("driver-3"), neot_chain.address("shop-4")
    before_sender = await client.neot_balance(sender.address)
    before_receiver = await client.neot_balance(receiver)
    receipt = await client.transfer_neot(sender, receiver, 12 * NEOT, data="invoice 17")
    assert receipt.gas_cost > 0
    [event] = [n for n in receipt.notifications if n.event_name == "Transfer"]
    state = event.state.as_list()
    assert (state[0].as_address(), state[1].as_address(), state[2].as_int()) == (sender.address, receiver, 12 * NEOT)
    assert await client.neot_balance(sender.address) == before_sender - 12 * NEOT
    assert await client.neot_balance(receiver) == before_receiver + 12 * NEOT
    assert _raw_neot_balance(neot_chain, receiver) == before_receiver + 12 * NEOT
    assert _raw_neot_balance(neot_chain, sender.address) == before_sender - 12 * NEOT


async def test_transfer_beyond_balance_is_refused_before_sending(neot_chain: DeployedChain) -> None:
    client = neot_chain.client
    poor = neot_chain.account("shop-4")
    balance = await client.neot_balance(poor.address)
    height = await client.block_height()
    with pytest.raises(ContractFault) as info:
        await client.transfer_neot(poor, neot_chain.address("royalty"), balance + 1)
    assert "ASSERT" in info.value.vm_exception.upper()
    assert await client.neot_balance(poor.address) == balance
    assert await client.block_height() >= height


async def test_transfer_to_token_contract_is_refused(neot_chain: DeployedChain) -> None:
    client = neot_chain.client
    with pytest.raises(ContractFault):
        await client.transfer_neot(neot_chain.account("driver-3"), neot_chain.deployment.contracts.token, NEOT)

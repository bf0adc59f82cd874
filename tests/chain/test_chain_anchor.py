"""Score anchor: only the anchoring account writes, each epoch once, epochs strictly increasing."""

import hashlib

import pytest

from chain import ContractFault
from tests.chain_fixtures import DeployedChain

pytestmark = [pytest.mark.anyio, pytest.mark.chain]


def _root(label: str) -> bytes:
    return hashlib.sha256(label.encode()).digest()


async def test_anchor_then_read_back(fresh_anchor_chain: DeployedChain) -> None:
    client = fresh_anchor_chain.client
    assert await client.latest_epoch() is None
    assert await client.get_root(0) is None
    start = await client.block_height()
    receipt = await client.anchor(fresh_anchor_chain.account("anchorer"), 0, _root("epoch 0"), 12)
    [event] = [n for n in receipt.notifications if n.event_name == "Anchored"]
    assert [item.as_int() for item in event.state.as_list()[::2]] == [0, 12]
    assert await client.get_root(0) == _root("epoch 0")
    assert await client.get_leaf_count(0) == 12
    assert await client.latest_epoch() == 0
    assert await client.anchorer() == fresh_anchor_chain.address("anchorer")
    page = await client.anchored_epochs(from_block=start)
    assert [(e.epoch, e.root, e.leaf_count, e.tx_hash) for e in page.events] == [
        (0, _root("epoch 0"), 12, receipt.tx_hash)
    ]


async def test_epoch_is_write_once(fresh_anchor_chain: DeployedChain) -> None:
    client, anchorer = fresh_anchor_chain.client, fresh_anchor_chain.account("anchorer")
    await client.anchor(anchorer, 3, _root("first"), 1)
    with pytest.raises(ContractFault) as info:
        await client.anchor(anchorer, 3, _root("second"), 1)
    assert "epochs must strictly increase" in info.value.vm_exception
    assert await client.get_root(3) == _root("first")


async def test_epochs_strictly_increase(fresh_anchor_chain: DeployedChain) -> None:
    client, anchorer = fresh_anchor_chain.client, fresh_anchor_chain.account("anchorer")
    await client.anchor(anchorer, 10, _root("ten"), 5)
    with pytest.raises(ContractFault, match="strictly increase"):
        await client.anchor(anchorer, 9, _root("nine"), 5)
    assert await client.get_root(9) is None
    await client.anchor(anchorer, 11, _root("eleven"), 5)
    assert await client.latest_epoch() == 11


@pytest.mark.parametrize("label", ["treasury", "insurer-1", "driver-1"])
async def test_only_the_anchoring_account_may_anchor(fresh_anchor_chain: DeployedChain, label: str) -> None:
    client = fresh_anchor_chain.client
    with pytest.raises(ContractFault, match="only the anchoring account"):
        await client.anchor(fresh_anchor_chain.account(label), 0, _root("forged"), 1)
    assert await client.latest_epoch() is None


@pytest.mark.parametrize(
    ("epoch", "root", "leaves", "message"),
    [
        (0, b"\x01" * 31, 1, "root must be 32 bytes"),
        (0, b"\x01" * 33, 1, "root must be 32 bytes"),
        (0, b"", 1, "root must be 32 bytes"),
        (0, b"\x01" * 32, 0, "at least one leaf"),
        (-1, b"\x01" * 32, 1, "epoch must not be negative"),
    ],
)
async def test_malformed_anchors_fault(
    fresh_anchor_chain: DeployedChain, epoch: int, root: bytes, leaves: int, message: str
) -> None:
    with pytest.raises(ContractFault, match=message):
        await fresh_anchor_chain.client.anchor(fresh_anchor_chain.account("anchorer"), epoch, root, leaves)

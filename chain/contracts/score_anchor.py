"""Score anchor: one Merkle root per scoring epoch, written once by the anchoring account.

Epochs only move forward and a stored root is never replaced, so a score proven against an
anchored root stays provable forever. The anchoring account is fixed at deploy time (the deploy
`data`); it is the only account whose witness `anchor` accepts.
"""

from typing import Any

from boa3.sc import runtime, storage
from boa3.sc.compiletime import NeoMetadata, public
from boa3.sc.types import UInt160
from boa3.sc.utils import CreateNewEvent, to_bytes


def manifest_metadata() -> NeoMetadata:
    meta = NeoMetadata()
    meta.name = "NEOT Score Anchor"
    meta.description = "Write-once Merkle roots of NEOT driving-score epochs"
    return meta


ANCHORER_KEY = b"a"
LATEST_EPOCH_KEY = b"e"
ROOT_PREFIX = b"r"
LEAF_COUNT_PREFIX = b"n"
ROOT_LENGTH = 32

on_anchored = CreateNewEvent(
    [
        ("epoch", int),
        ("root", bytes),
        ("leaf_count", int),
    ],
    "Anchored",
)


@public(safe=True)
def anchorer() -> UInt160:
    return storage.get_uint160(ANCHORER_KEY)


@public(name="latestEpoch", safe=True)
def latest_epoch() -> int:
    """The newest anchored epoch, or -1 before the first anchor."""
    stored = storage.try_get_int(LATEST_EPOCH_KEY)
    if not stored[1]:
        return -1
    return stored[0]


@public(name="getRoot", safe=True)
def get_root(epoch: int) -> bytes:
    """The root anchored for `epoch`, or empty bytes when that epoch was never anchored."""
    return storage.get(ROOT_PREFIX + to_bytes(epoch))


@public(name="getLeafCount", safe=True)
def get_leaf_count(epoch: int) -> int:
    return storage.get_int(LEAF_COUNT_PREFIX + to_bytes(epoch))


@public
def anchor(epoch: int, root: bytes, leaf_count: int) -> None:
    assert runtime.check_witness(anchorer()), "only the anchoring account may anchor"
    assert epoch >= 0, "epoch must not be negative"
    assert epoch > latest_epoch(), "epochs must strictly increase"
    assert len(root) == ROOT_LENGTH, "root must be 32 bytes"
    assert leaf_count > 0, "an epoch needs at least one leaf"
    key = ROOT_PREFIX + to_bytes(epoch)
    assert len(storage.get(key)) == 0, "epoch already anchored"
    storage.put(key, root)
    storage.put_int(LEAF_COUNT_PREFIX + to_bytes(epoch), leaf_count)
    storage.put_int(LATEST_EPOCH_KEY, epoch)
    on_anchored(epoch, root, leaf_count)


@public
def _deploy(data: Any, update: bool) -> None:
    if not update:
        account: UInt160 = data
        assert isinstance(account, UInt160) and len(account) == 20, "deploy data must be the anchoring account"
        storage.put_uint160(ANCHORER_KEY, account)

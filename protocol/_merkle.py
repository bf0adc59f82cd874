"""The RFC 6962 (Certificate Transparency) Merkle tree, its audit paths and their verification.

Leaf hash `SHA-256(0x00 ‖ leaf)`, node hash `SHA-256(0x01 ‖ left ‖ right)`: the prefixes keep a leaf
from ever being passed off as an inner node (the second-preimage attack a bare tree allows). A tree
whose size is not a power of two is split at the largest power of two below its size; building it
bottom-up and carrying a lone last node up unchanged gives exactly that tree, so standard CT tooling
checks our roots and paths.

These functions are consensus-critical: a change here makes every published proof unverifiable.
The pinned roots in `tests/protocol/test_merkle.py` guard them.
"""

from collections.abc import Sequence
from hashlib import sha256

from protocol._errors import ProtocolError

__all__ = [
    "HASH_BYTES",
    "MerkleError",
    "MerkleTree",
    "audit_path_length",
    "leaf_hash",
    "node_hash",
    "root_from_audit_path",
]

HASH_BYTES = 32
_LEAF_PREFIX = b"\x00"
_NODE_PREFIX = b"\x01"


class MerkleError(ProtocolError, ValueError):
    """A tree or an audit path that cannot exist: empty tree, index outside it, wrong path shape."""


def leaf_hash(leaf: bytes) -> bytes:
    """`SHA-256(0x00 ‖ leaf)`."""
    return sha256(_LEAF_PREFIX + leaf).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """`SHA-256(0x01 ‖ left ‖ right)`."""
    return sha256(_NODE_PREFIX + left + right).digest()


def _parent_level(level: Sequence[bytes]) -> list[bytes]:
    prefix = _NODE_PREFIX
    parents = [sha256(prefix + left + right).digest() for left, right in zip(level[::2], level[1::2], strict=False)]
    if len(level) % 2:
        parents.append(level[-1])  # the lone last node moves up unchanged (the RFC's split)
    return parents


class MerkleTree:
    """An immutable tree over leaf hashes, keeping every level so an audit path costs no hashing."""

    __slots__ = ("_levels",)

    def __init__(self, leaf_hashes: Sequence[bytes]) -> None:
        if not leaf_hashes:
            raise MerkleError("a Merkle tree needs at least one leaf")
        if any(len(h) != HASH_BYTES for h in leaf_hashes):
            raise MerkleError(f"every leaf hash must be {HASH_BYTES} bytes")
        levels = [list(leaf_hashes)]
        while len(levels[-1]) > 1:
            levels.append(_parent_level(levels[-1]))
        self._levels = levels

    @classmethod
    def from_leaves(cls, leaves: Sequence[bytes]) -> "MerkleTree":
        """The tree over raw leaf bytes (each is hashed with the 0x00 prefix)."""
        prefix = _LEAF_PREFIX
        return cls([sha256(prefix + leaf).digest() for leaf in leaves])

    @property
    def size(self) -> int:
        """Number of leaves."""
        return len(self._levels[0])

    @property
    def root(self) -> bytes:
        """The 32-byte tree head."""
        return self._levels[-1][0]

    def leaf_hash(self, index: int) -> bytes:
        """The hash of leaf `index` (0-based)."""
        self._check_index(index)
        return self._levels[0][index]

    def audit_path(self, index: int) -> tuple[bytes, ...]:
        """RFC 6962 audit path of leaf `index`: sibling hashes from the leaf up to the root."""
        self._check_index(index)
        path = []
        for level in self._levels[:-1]:
            sibling = index ^ 1
            if sibling < len(level):
                path.append(level[sibling])
            index >>= 1
        return tuple(path)

    def _check_index(self, index: int) -> None:
        if not 0 <= index < self.size:
            raise MerkleError(f"leaf index {index} is outside a tree of {self.size} leaves")


def audit_path_length(leaf_index: int, tree_size: int) -> int:
    """How many hashes the audit path of `leaf_index` in a tree of `tree_size` leaves has."""
    if not 0 <= leaf_index < tree_size:
        raise MerkleError(f"leaf index {leaf_index} is outside a tree of {tree_size} leaves")
    length = 0
    while tree_size > 1:
        if leaf_index ^ 1 < tree_size:
            length += 1
        leaf_index >>= 1
        tree_size = (tree_size + 1) >> 1
    return length


def root_from_audit_path(leaf_digest: bytes, leaf_index: int, tree_size: int, audit_path: Sequence[bytes]) -> bytes:
    """The root that `audit_path` leads to from a leaf hash (RFC 9162, section 2.1.3.2).

    Raises `MerkleError` when the path cannot belong to a tree of that size at that index, so a
    truncated or padded path is reported as such rather than as a root mismatch.
    """
    expected = audit_path_length(leaf_index, tree_size)
    if len(audit_path) != expected:
        raise MerkleError(f"audit path has {len(audit_path)} hashes; leaf {leaf_index} of {tree_size} needs {expected}")
    if len(leaf_digest) != HASH_BYTES or any(len(h) != HASH_BYTES for h in audit_path):
        raise MerkleError(f"every hash must be {HASH_BYTES} bytes")
    prefix, fn, sn, digest = _NODE_PREFIX, leaf_index, tree_size - 1, leaf_digest
    for sibling in audit_path:
        if fn & 1 or fn == sn:
            digest = sha256(prefix + sibling + digest).digest()
            while not fn & 1 and fn:
                fn >>= 1
                sn >>= 1
        else:
            digest = sha256(prefix + digest + sibling).digest()
        fn >>= 1
        sn >>= 1
    return digest

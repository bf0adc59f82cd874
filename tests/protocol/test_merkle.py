"""The RFC 6962 tree: pinned roots, an independent implementation (pymerkle) and path checks."""

import random
import warnings

import pytest
from pymerkle import InmemoryTree

from protocol._merkle import (
    MerkleError,
    MerkleTree,
    audit_path_length,
    leaf_hash,
    node_hash,
    root_from_audit_path,
)

# The Certificate Transparency reference vectors (certificate-transparency-go merkle tests): the
# first n of these eight leaves give these roots. Consensus-critical: never change them.
CT_LEAVES = [
    b"",
    b"\x00",
    b"\x10",
    b"\x20\x21",
    b"\x30\x31",
    b"\x40\x41\x42\x43",
    b"\x50\x51\x52\x53\x54\x55\x56\x57",
    b"\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f",
]
CT_ROOTS = {
    1: "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    2: "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    3: "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    4: "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    5: "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    6: "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    7: "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    8: "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
}


@pytest.mark.parametrize("size", sorted(CT_ROOTS))
def test_pinned_roots_of_the_ct_reference_vectors(size: int) -> None:
    assert MerkleTree.from_leaves(CT_LEAVES[:size]).root.hex() == CT_ROOTS[size]


def test_leaf_and_node_hashes_are_domain_separated() -> None:
    assert leaf_hash(b"").hex() == "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"
    left, right = leaf_hash(b"a"), leaf_hash(b"b")
    assert node_hash(left, right) != leaf_hash(left + right)
    assert MerkleTree([left, right]).root == node_hash(left, right)


def _pymerkle(leaves: list[bytes]) -> InmemoryTree:
    tree = InmemoryTree(algorithm="sha256")  # RFC 6962 prefixes are pymerkle's default
    for leaf in leaves:
        tree.append_entry(leaf)
    return tree


def test_roots_and_paths_equal_pymerkle_on_random_sizes() -> None:
    rng = random.Random(6962)
    sizes = [*range(1, 34), *rng.sample(range(34, 1001), 40), 1000]
    for size in sizes:
        leaves = [rng.randbytes(rng.randrange(0, 80)) for _ in range(size)]
        ours, theirs = MerkleTree.from_leaves(leaves), _pymerkle(leaves)
        assert ours.root == theirs.get_root(), size
        for index in {0, size - 1, size // 2, rng.randrange(size)}:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                their_proof = theirs.prove_inclusion(index + 1, size)  # pymerkle counts from 1
            # pymerkle's path starts with the leaf hash itself, then the siblings bottom-up.
            assert their_proof.path == [ours.leaf_hash(index), *ours.audit_path(index)], (size, index)


def test_every_path_of_every_small_tree_leads_to_the_root() -> None:
    for size in range(1, 70):
        tree = MerkleTree.from_leaves([size.to_bytes(2, "big") + bytes([i]) for i in range(size)])
        for index in range(size):
            path = tree.audit_path(index)
            assert len(path) == audit_path_length(index, size)
            assert root_from_audit_path(tree.leaf_hash(index), index, size, path) == tree.root


def test_a_million_leaves_need_at_most_21_hashes() -> None:
    size = 1_000_000
    assert max(audit_path_length(i, size) for i in (0, 1, 999_999, 524_288, 999_998)) == 20


def test_a_changed_sibling_or_index_leads_elsewhere() -> None:
    tree = MerkleTree.from_leaves([bytes([i]) for i in range(11)])
    path = list(tree.audit_path(6))
    path[1] = bytes([path[1][0] ^ 1]) + path[1][1:]
    assert root_from_audit_path(tree.leaf_hash(6), 6, 11, path) != tree.root
    assert root_from_audit_path(tree.leaf_hash(6), 7, 11, tree.audit_path(6)) != tree.root


@pytest.mark.parametrize(
    ("index", "size", "path_len", "message"),
    [
        (5, 5, 3, "outside a tree of 5"),
        (0, 8, 2, "needs 3"),
        (0, 8, 4, "needs 3"),
        (0, 1, 1, "needs 0"),
    ],
)
def test_impossible_paths_are_refused(index: int, size: int, path_len: int, message: str) -> None:
    with pytest.raises(MerkleError, match=message):
        root_from_audit_path(bytes(32), index, size, [bytes(32)] * path_len)


def test_empty_tree_and_bad_hashes_are_refused() -> None:
    with pytest.raises(MerkleError, match="at least one leaf"):
        MerkleTree([])
    with pytest.raises(MerkleError, match="32 bytes"):
        MerkleTree([b"short"])
    with pytest.raises(MerkleError, match="outside"):
        MerkleTree.from_leaves([b"a"]).audit_path(1)

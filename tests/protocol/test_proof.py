"""Proof documents and their pure verification against a chain view (no node needed here)."""

from dataclasses import replace
from typing import Any

import pytest

from protocol import (
    AnchoredEvent,
    ChainView,
    EncodeError,
    FailureReason,
    MalformedProofError,
    MerkleTree,
    Proof,
    RecordType,
    TxView,
    VerificationError,
    canonical_json,
    leaf_hash,
    new_salt,
    parse_json,
    record_leaf,
    verify,
    verify_inclusion,
)
from protocol._proof import Anchor, Inclusion

CONTRACT = "0x" + "ab" * 20
TX = "0x" + "cd" * 32
MAGIC = 42


def _records() -> list[dict[str, Any]]:
    return [
        {"type": "trip_score", "trip_id": 7, "score": 88, "product": "pay-how-you-drive@1"},
        {"type": "driver_score", "driver_id": 3, "score": 91, "month": "2026-10"},
        {"type": "premium_statement", "statement_id": 5, "premium": 4_200_000_000},
        {"type": "repair_payout", "job_id": 9, "shop_amount": 95_000_000, "note": "Bremsbeläge ✓"},
        {"type": "trip_score", "trip_id": 8, "score": 40, "product": "pay-how-you-drive@1"},
    ]


def _proof(index: int = 3) -> tuple[Proof, ChainView]:
    records, salts = _records(), [bytes([i]) * 32 for i in range(5)]
    tree = MerkleTree([leaf_hash(record_leaf(r, s)) for r, s in zip(records, salts, strict=True)])
    inclusion = Inclusion(epoch=12, leaf_index=index, tree_size=5, audit_path=tree.audit_path(index), root=tree.root)
    proof = Proof(records[index], salts[index], inclusion, Anchor(MAGIC, CONTRACT, TX, 1234))
    tx = TxView("HALT", 1234, (AnchoredEvent(CONTRACT, 12, tree.root),))
    return proof, ChainView(MAGIC, CONTRACT, True, 12, tree.root, tx)


def _reason(proof: Proof, chain: ChainView) -> FailureReason:
    with pytest.raises(VerificationError) as caught:
        verify(proof, chain)
    return caught.value.reason


def test_leaf_is_salt_then_canonical_record() -> None:
    record, salt = {"type": "trip_score", "score": 88, "a": [1, None]}, b"\x11" * 32
    assert record_leaf(record, salt) == salt + b'{"a":[1,null],"score":88,"type":"trip_score"}'
    assert len(new_salt()) == 32 and new_salt() != new_salt()


@pytest.mark.parametrize(
    ("record", "salt", "message"),
    [
        ({"type": "trip_score"}, b"\x00" * 31, "salt must be 32 bytes"),
        ({"score": 1}, b"\x00" * 32, "record type None"),
        ({"type": "weather"}, b"\x00" * 32, "record type 'weather'"),
        ({"type": "trip_score", "score": 8.5}, b"\x00" * 32, "floats"),
    ],
)
def test_uncommittable_records_are_refused(record: dict[str, Any], salt: bytes, message: str) -> None:
    with pytest.raises(EncodeError, match=message):
        record_leaf(record, salt)


def test_every_record_type_verifies_and_round_trips_through_json() -> None:
    seen = set()
    for index in range(5):
        proof, chain = _proof(index)
        text = canonical_json(proof.to_json())
        again = Proof.from_json(parse_json(text))
        assert again == proof
        verify(again, chain)
        seen.add(again.record["type"])
    assert seen == set(RecordType)


def test_document_has_exactly_the_published_fields() -> None:
    doc = _proof()[0].to_json()
    assert list(doc) == [
        "version",
        "record",
        "salt",
        "leaf_index",
        "tree_size",
        "audit_path",
        "root",
        "epoch",
        "anchor",
    ]
    assert doc["anchor"] == {"network_magic": 42, "contract": CONTRACT, "tx": TX, "block": 1234}
    assert doc["version"] == 1 and doc["salt"] == "03" * 32 and doc["tree_size"] == 5


def test_pending_proofs_say_so_and_do_not_verify() -> None:
    proof, chain = _proof()
    closed = replace(proof, anchor=None)
    doc = closed.to_json()
    assert doc["anchor"] is None and doc["state"] == "pending" and doc["epoch"] == 12
    assert Proof.from_json(doc) == closed
    assert verify_inclusion(closed) == proof.inclusion  # the path is already checkable offline
    assert _reason(closed, chain) is FailureReason.PENDING
    unassigned = replace(proof, inclusion=None, anchor=None)
    doc = unassigned.to_json()
    assert (doc["epoch"], doc["root"], doc["audit_path"]) == (None, None, [])
    assert Proof.from_json(doc) == unassigned
    with pytest.raises(VerificationError, match="not in a closed epoch"):
        verify_inclusion(unassigned)


def _flip(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1 :]


def test_flipping_any_byte_of_salt_path_or_root_fails_with_its_reason() -> None:
    proof, chain = _proof()
    assert proof.inclusion is not None
    for at in range(32):
        assert _reason(replace(proof, salt=_flip(proof.salt, at)), chain) is FailureReason.LEAF_NOT_IN_ROOT
        root = _flip(proof.inclusion.root, at)
        assert _reason(replace(proof, inclusion=replace(proof.inclusion, root=root)), chain) is (
            FailureReason.ROOT_MISMATCH
        )
        for step in range(len(proof.inclusion.audit_path)):
            path = list(proof.inclusion.audit_path)
            path[step] = _flip(path[step], at)
            bad = replace(proof, inclusion=replace(proof.inclusion, audit_path=tuple(path)))
            assert _reason(bad, chain) is FailureReason.LEAF_NOT_IN_ROOT


def test_flipping_any_byte_of_the_record_fails() -> None:
    proof, chain = _proof(0)
    canonical = canonical_json(proof.record)
    still_records = 0
    for at in range(len(canonical)):
        try:
            flipped = replace(proof, record=parse_json(_flip(canonical, at)))
            flipped.leaf()
        except ValueError:
            continue  # the flip broke the JSON or the record type: not a record, so nothing to prove
        still_records += 1
        assert _reason(flipped, chain) is FailureReason.LEAF_NOT_IN_ROOT, at
    assert still_records > len(canonical) // 2


def test_chain_disagreements_each_have_their_reason() -> None:
    proof, chain = _proof()
    assert proof.inclusion is not None
    assert _reason(proof, replace(chain, network_magic=860833102)) is FailureReason.WRONG_NETWORK
    assert _reason(proof, replace(chain, contract="0x" + "ee" * 20)) is FailureReason.WRONG_CONTRACT
    assert _reason(proof, replace(chain, contract_ok=False)) is FailureReason.WRONG_CONTRACT
    assert _reason(proof, replace(chain, root=None)) is FailureReason.NOT_ANCHORED
    assert _reason(proof, replace(chain, epoch=13)) is FailureReason.NOT_ANCHORED
    assert _reason(proof, replace(chain, root=bytes(32))) is FailureReason.ROOT_MISMATCH
    assert _reason(proof, replace(chain, tx=None)) is FailureReason.TX_MISMATCH
    assert chain.tx is not None
    assert _reason(proof, replace(chain, tx=replace(chain.tx, vm_state="FAULT"))) is FailureReason.TX_MISMATCH
    assert _reason(proof, replace(chain, tx=replace(chain.tx, events=()))) is FailureReason.TX_MISMATCH
    assert _reason(proof, replace(chain, tx=replace(chain.tx, block=1235))) is FailureReason.BLOCK_MISMATCH
    short = replace(proof, inclusion=replace(proof.inclusion, audit_path=proof.inclusion.audit_path[:-1]))
    assert _reason(short, chain) is FailureReason.PATH_SHAPE


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"version": 2}, "version 2"),
        ({"extra": 1}, "proof fields"),
        ({"salt": "zz" * 32}, "salt is not hex"),
        ({"salt": "00"}, "salt must be 64"),
        ({"root": "00" * 31}, "root must be 64"),
        ({"leaf_index": 5}, "not below tree_size"),
        ({"leaf_index": -1}, "leaf_index must be a non-negative"),
        ({"leaf_index": True}, "leaf_index must be a non-negative"),
        ({"audit_path": "00"}, "audit_path must be a list"),
        ({"record": [1]}, "record must be a JSON object"),
        ({"record": {"type": "weather"}}, "record: record type"),
        ({"anchor": {"network_magic": 42}}, "anchor must be an object"),
        ({"anchor": {"network_magic": 42, "contract": "0xAB", "tx": TX, "block": 1}}, "anchor.contract"),
        ({"anchor": {"network_magic": 42, "contract": CONTRACT, "tx": "0x1", "block": 1}}, "anchor.tx"),
    ],
)
def test_malformed_documents_name_the_bad_field(change: dict[str, Any], message: str) -> None:
    doc = {**_proof()[0].to_json(), **change}
    with pytest.raises(MalformedProofError, match=message):
        Proof.from_json(doc)


def test_pending_documents_must_be_consistent() -> None:
    doc = _proof()[0].to_json()
    with pytest.raises(MalformedProofError, match="state 'pending'"):
        Proof.from_json({**doc, "anchor": None, "state": "done"})
    with pytest.raises(MalformedProofError, match="proof fields"):
        Proof.from_json({**doc, "anchor": None})
    with pytest.raises(MalformedProofError, match="without epoch"):
        Proof.from_json({**doc, "anchor": None, "state": "pending", "epoch": None})
    with pytest.raises(MalformedProofError, match="anchored proof needs"):
        Proof.from_json({**doc, "epoch": None, "leaf_index": None, "tree_size": None, "root": None, "audit_path": []})
    with pytest.raises(MalformedProofError, match="JSON object"):
        Proof.from_json([doc])

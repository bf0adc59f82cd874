"""Commitments to NEOT records and the self-contained proof that one was anchored on NEO.

A record (trip score, driver score, premium statement, repair payout) is committed as the leaf
`salt ‖ canonical_json(record)`. The 32 random salt bytes stay with the record, so an anchored root
reveals nothing, not even to someone guessing scores one by one.

A proof document carries the record, its salt, the RFC 6962 audit path and where the root was
anchored. Verification here is pure: `verify(proof, chain)` compares the document with a
`ChainView` (what a NEO node said about that contract, epoch and transaction); reading the chain is
the caller's business, so this module runs anywhere `protocol` does.
"""

import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from protocol._canonical import canonical_json
from protocol._errors import EncodeError, MalformedError, ProtocolError
from protocol._merkle import HASH_BYTES, MerkleError, leaf_hash, root_from_audit_path

__all__ = [
    "PROOF_VERSION",
    "SALT_BYTES",
    "Anchor",
    "AnchoredEvent",
    "ChainView",
    "FailureReason",
    "Inclusion",
    "MalformedProofError",
    "Proof",
    "RecordType",
    "TxView",
    "VerificationError",
    "new_salt",
    "record_leaf",
    "verify",
    "verify_inclusion",
]

PROOF_VERSION = 1
SALT_BYTES = 32
#: Largest number of hashes an audit path may carry (a tree of 2**64 leaves).
MAX_AUDIT_PATH = 64
_HALT = "HALT"
_CONTRACT = re.compile(r"0x[0-9a-f]{40}")
_TX = re.compile(r"0x[0-9a-f]{64}")
_KEYS = frozenset({"version", "record", "salt", "leaf_index", "tree_size", "audit_path", "root", "epoch", "anchor"})
_ANCHOR_KEYS = frozenset({"network_magic", "contract", "tx", "block"})
_PENDING = "pending"


class RecordType(StrEnum):
    """What a committed record is; its value is the record's `type` field."""

    TRIP_SCORE = "trip_score"
    DRIVER_SCORE = "driver_score"
    PREMIUM_STATEMENT = "premium_statement"
    REPAIR_PAYOUT = "repair_payout"


class MalformedProofError(MalformedError):
    """A proof document that does not follow the documented structure."""


class FailureReason(StrEnum):
    """Why a proof does not verify. Each names the part of the proof or of the chain at fault."""

    PENDING = "pending"  # the record's epoch is not anchored yet: nothing to check against
    PATH_SHAPE = "path_shape"  # the audit path cannot belong to that index in a tree of that size
    LEAF_NOT_IN_ROOT = "leaf_not_in_root"  # record, salt and path do not hash to the proof's root
    WRONG_NETWORK = "wrong_network"  # the node answers for another network than the proof's
    WRONG_CONTRACT = "wrong_contract"  # the contract is not the one expected, or has no such root
    NOT_ANCHORED = "not_anchored"  # the contract holds no root for the proof's epoch
    ROOT_MISMATCH = "root_mismatch"  # the contract holds another root for the proof's epoch
    TX_MISMATCH = "tx_mismatch"  # the transaction is missing, faulted, or anchored something else
    BLOCK_MISMATCH = "block_mismatch"  # the transaction is in another block than the proof says


class VerificationError(ProtocolError):
    """The proof does not check out; `reason` says which part failed, the message says how."""

    def __init__(self, reason: FailureReason, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def new_salt() -> bytes:
    """32 bytes from the OS's CSPRNG, stored with the record it blinds."""
    return secrets.token_bytes(SALT_BYTES)


def record_leaf(record: Mapping[str, Any], salt: bytes) -> bytes:
    """`salt ‖ canonical_json(record)`, the bytes a record commits to.

    Raises `EncodeError` for a salt of the wrong size, a record without a known `type` or a value
    with no canonical form (a float).
    """
    if len(salt) != SALT_BYTES:
        raise EncodeError(f"salt must be {SALT_BYTES} bytes, got {len(salt)}")
    kind = record.get("type")
    if kind not in RecordType.__members__.values():
        raise EncodeError(f"record type {kind!r} is not one of {', '.join(RecordType)}")
    return salt + canonical_json(record)


@dataclass(frozen=True, slots=True)
class Anchor:
    """Where an epoch's root was written: network, anchor contract, transaction and its block."""

    network_magic: int
    contract: str
    tx: str
    block: int


@dataclass(frozen=True, slots=True)
class Inclusion:
    """The record's place in its epoch's tree and the hashes that lead from it to the root."""

    epoch: int
    leaf_index: int
    tree_size: int
    audit_path: tuple[bytes, ...]
    root: bytes


@dataclass(frozen=True, slots=True)
class Proof:
    """A record, its salt, its inclusion in an epoch (None until the epoch closes) and the anchor
    (None until the epoch's transaction is confirmed: the proof is then pending).

    The leaf bytes are computed once, on construction, so a `Proof` with a record that cannot be
    committed (no known `type`, a float, a salt of the wrong size) never exists: `EncodeError`.
    Treat `record` as frozen.
    """

    record: Mapping[str, Any]
    salt: bytes
    inclusion: Inclusion | None
    anchor: Anchor | None
    _leaf: bytes = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_leaf", record_leaf(self.record, self.salt))

    @property
    def pending(self) -> bool:
        """True until the epoch's root is confirmed on chain."""
        return self.anchor is None or self.inclusion is None

    def leaf(self) -> bytes:
        """The committed leaf bytes, `salt ‖ canonical_json(record)`."""
        return self._leaf

    def to_json(self) -> dict[str, Any]:
        """The proof document; `anchor` is null and `state` is "pending" until it is anchored."""
        inc = self.inclusion
        doc: dict[str, Any] = {
            "version": PROOF_VERSION,
            "record": dict(self.record),
            "salt": self.salt.hex(),
            "leaf_index": inc.leaf_index if inc else None,
            "tree_size": inc.tree_size if inc else None,
            "audit_path": [h.hex() for h in inc.audit_path] if inc else [],
            "root": inc.root.hex() if inc else None,
            "epoch": inc.epoch if inc else None,
            "anchor": None,
        }
        if self.anchor is None or inc is None:
            doc["state"] = _PENDING
        else:
            doc["anchor"] = {
                "network_magic": self.anchor.network_magic,
                "contract": self.anchor.contract,
                "tx": self.anchor.tx,
                "block": self.anchor.block,
            }
        return doc

    @classmethod
    def from_json(cls, doc: object) -> "Proof":
        """Parse a proof document strictly; raises `MalformedProofError` naming the bad field."""
        if not isinstance(doc, dict):
            raise MalformedProofError("a proof is a JSON object")
        if doc.get("version") != PROOF_VERSION:
            raise MalformedProofError(f"proof version {doc.get('version')!r} is not {PROOF_VERSION}")
        pending = doc.get("anchor") is None
        expected = _KEYS | {"state"} if pending else _KEYS
        if set(doc) != expected:
            raise MalformedProofError(f"proof fields must be {sorted(expected)}, got {sorted(doc)}")
        if pending and doc["state"] != _PENDING:
            raise MalformedProofError(f"a proof without anchor must say state {_PENDING!r}")
        record = doc["record"]
        if not isinstance(record, dict):
            raise MalformedProofError("record must be a JSON object")
        salt = _hex(doc["salt"], "salt", SALT_BYTES)
        inclusion = None if doc["epoch"] is None else _inclusion(doc)
        if inclusion is None and not (
            doc["leaf_index"] is None and doc["tree_size"] is None and doc["root"] is None and not doc["audit_path"]
        ):
            raise MalformedProofError("a proof without epoch carries no leaf_index, tree_size, path or root")
        anchor = None if pending else _anchor(doc["anchor"])
        if anchor is not None and inclusion is None:
            raise MalformedProofError("an anchored proof needs epoch, leaf_index, tree_size, path and root")
        try:
            return cls(record=record, salt=salt, inclusion=inclusion, anchor=anchor)
        except EncodeError as exc:
            raise MalformedProofError(f"record: {exc}") from exc


def _int(value: object, name: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise MalformedProofError(f"{name} must be a non-negative integer")
    return value


def _hex(value: object, name: str, size: int) -> bytes:
    if not isinstance(value, str) or len(value) != 2 * size:
        raise MalformedProofError(f"{name} must be {2 * size} hex digits")
    try:
        return bytes.fromhex(value)
    except ValueError as exc:
        raise MalformedProofError(f"{name} is not hex") from exc


def _inclusion(doc: Mapping[str, Any]) -> Inclusion:
    path = doc["audit_path"]
    if not isinstance(path, list) or len(path) > MAX_AUDIT_PATH:
        raise MalformedProofError(f"audit_path must be a list of at most {MAX_AUDIT_PATH} hashes")
    inclusion = Inclusion(
        epoch=_int(doc["epoch"], "epoch"),
        leaf_index=_int(doc["leaf_index"], "leaf_index"),
        tree_size=_int(doc["tree_size"], "tree_size"),
        audit_path=tuple(_hex(h, f"audit_path[{i}]", HASH_BYTES) for i, h in enumerate(path)),
        root=_hex(doc["root"], "root", HASH_BYTES),
    )
    if inclusion.leaf_index >= inclusion.tree_size:
        raise MalformedProofError(f"leaf_index {inclusion.leaf_index} is not below tree_size {inclusion.tree_size}")
    return inclusion


def _anchor(value: object) -> Anchor:
    if not isinstance(value, dict) or set(value) != _ANCHOR_KEYS:
        raise MalformedProofError(f"anchor must be an object with fields {sorted(_ANCHOR_KEYS)}")
    contract, tx = value["contract"], value["tx"]
    if not isinstance(contract, str) or not _CONTRACT.fullmatch(contract):
        raise MalformedProofError("anchor.contract must be 0x and 40 lower-case hex digits")
    if not isinstance(tx, str) or not _TX.fullmatch(tx):
        raise MalformedProofError("anchor.tx must be 0x and 64 lower-case hex digits")
    return Anchor(
        network_magic=_int(value["network_magic"], "anchor.network_magic"),
        contract=contract,
        tx=tx,
        block=_int(value["block"], "anchor.block"),
    )


@dataclass(frozen=True, slots=True)
class AnchoredEvent:
    """One `Anchored(epoch, root, leaf_count)` notification in a transaction's application log."""

    contract: str
    epoch: int
    root: bytes


@dataclass(frozen=True, slots=True)
class TxView:
    """A transaction as the node reports it: VM state, block height and its `Anchored` events."""

    vm_state: str
    block: int
    events: tuple[AnchoredEvent, ...]


@dataclass(frozen=True, slots=True)
class ChainView:
    """What one NEO node says about a proof's anchor.

    `contract` is the contract that was asked (the one the verifier trusts); `root` is its
    `getRoot(epoch)` answer (None when it holds none, or cannot answer because it is not an anchor
    contract: `contract_ok` False); `tx` is None when the node does not know the transaction.
    """

    network_magic: int
    contract: str
    contract_ok: bool
    epoch: int
    root: bytes | None
    tx: TxView | None


def verify_inclusion(proof: Proof) -> Inclusion:
    """Check, offline, that record, salt and audit path hash to the proof's root; returns the
    inclusion. Raises `VerificationError` (PENDING, PATH_SHAPE or LEAF_NOT_IN_ROOT)."""
    inc = proof.inclusion
    if inc is None:
        raise VerificationError(FailureReason.PENDING, "the record is not in a closed epoch yet")
    try:
        root = root_from_audit_path(leaf_hash(proof.leaf()), inc.leaf_index, inc.tree_size, inc.audit_path)
    except MerkleError as exc:
        raise VerificationError(FailureReason.PATH_SHAPE, str(exc)) from exc
    if root != inc.root:
        raise VerificationError(
            FailureReason.LEAF_NOT_IN_ROOT,
            f"record, salt and audit path hash to {root.hex()}, not to the proof's root {inc.root.hex()}",
        )
    return inc


def verify(proof: Proof, chain: ChainView) -> None:
    """Check a proof against what the chain says; returns only when everything matches.

    The chain is compared first, so a proof whose root was altered is reported as not anchored
    (ROOT_MISMATCH) and one whose record, salt or path was altered as LEAF_NOT_IN_ROOT.
    """
    anchor, inc = proof.anchor, proof.inclusion
    if anchor is None or inc is None:
        raise VerificationError(FailureReason.PENDING, "the record's epoch is not anchored yet (proof state: pending)")
    if chain.network_magic != anchor.network_magic:
        raise VerificationError(
            FailureReason.WRONG_NETWORK,
            f"the node is on network {chain.network_magic}, the proof was anchored on {anchor.network_magic}",
        )
    if chain.contract != anchor.contract:
        raise VerificationError(
            FailureReason.WRONG_CONTRACT,
            f"the proof names contract {anchor.contract}, the expected anchor contract is {chain.contract}",
        )
    if not chain.contract_ok:
        raise VerificationError(
            FailureReason.WRONG_CONTRACT, f"contract {chain.contract} is not a score anchor on this network"
        )
    if chain.epoch != inc.epoch:
        raise VerificationError(
            FailureReason.NOT_ANCHORED, f"the chain was read for epoch {chain.epoch}, the proof is for {inc.epoch}"
        )
    if chain.root is None:
        raise VerificationError(
            FailureReason.NOT_ANCHORED, f"contract {chain.contract} holds no root for epoch {inc.epoch}"
        )
    if chain.root != inc.root:
        raise VerificationError(
            FailureReason.ROOT_MISMATCH,
            f"epoch {inc.epoch} is anchored with root {chain.root.hex()}, the proof says {inc.root.hex()}",
        )
    verify_inclusion(proof)
    tx = chain.tx
    if tx is None:
        raise VerificationError(FailureReason.TX_MISMATCH, f"the node does not know transaction {anchor.tx}")
    if tx.vm_state != _HALT:
        raise VerificationError(FailureReason.TX_MISMATCH, f"transaction {anchor.tx} ended in {tx.vm_state}")
    if AnchoredEvent(chain.contract, inc.epoch, inc.root) not in tx.events:
        raise VerificationError(
            FailureReason.TX_MISMATCH,
            f"transaction {anchor.tx} did not anchor epoch {inc.epoch} with this root on {chain.contract}",
        )
    if tx.block != anchor.block:
        raise VerificationError(
            FailureReason.BLOCK_MISMATCH, f"transaction {anchor.tx} is in block {tx.block}, not {anchor.block}"
        )

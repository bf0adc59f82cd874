"""Reading records' proof documents from the database alone (no chain access needed).

An epoch's audit paths are written when it closes (`close_due_epoch`), so a proof is read, not
recomputed: one query gives the commitment, its stored path, the epoch's root and where it is
anchored, for one record or for all the records a statement used. Each proof is checked before
it is handed out: the record and salt as stored must hash to a leaf that the stored path leads
to the epoch's root (log2(n) hashes), so altered rows are refused, not served.
"""

from collections.abc import Iterable
from typing import Any

import orjson
from sqlalchemy import Row, bindparam, select
from sqlalchemy.orm import Session

from models import AnchorAttempt, Commitment, EpochState, ScoreEpoch
from protocol import (
    HASH_BYTES,
    PROOF_VERSION,
    Anchor,
    Inclusion,
    MerkleError,
    Proof,
    RecordType,
    leaf_hash,
    parse_json,
    root_from_audit_path,
)
from scoring_service.anchoring._errors import EpochIntegrityError, RecordNotCommitted

__all__ = ["build_proof", "build_proofs", "split_audit_path"]

_COLUMNS = (
    Commitment.record_id,
    Commitment.canonical,
    Commitment.salt,
    Commitment.epoch,
    Commitment.leaf_index,
    Commitment.audit_path,
    ScoreEpoch.root,
    ScoreEpoch.leaf_count,
    ScoreEpoch.state,
    ScoreEpoch.block,
    AnchorAttempt.tx_hash,
    AnchorAttempt.network_magic,
    AnchorAttempt.contract_hash,
)


type _ProofRow = Row[*tuple[Any, ...]]

# Built once with bound parameters: building the construct per read cost more than running it.
_OF_TYPE = (
    select(*_COLUMNS)
    .outerjoin(ScoreEpoch, ScoreEpoch.epoch == Commitment.epoch)
    .outerjoin(AnchorAttempt, AnchorAttempt.tx_hash == ScoreEpoch.tx_hash)
    .where(Commitment.record_type == bindparam("record_type"))
)
_ONE = _OF_TYPE.where(Commitment.record_id == bindparam("record_id"))
_MANY = _OF_TYPE.where(Commitment.record_id.in_(bindparam("record_ids", expanding=True)))


def split_audit_path(stored: bytes) -> tuple[bytes, ...]:
    """The hashes of a stored audit path (their concatenation)."""
    if len(stored) % HASH_BYTES:
        raise EpochIntegrityError(f"a stored audit path of {len(stored)} bytes is not whole hashes")
    return tuple(stored[i : i + HASH_BYTES] for i in range(0, len(stored), HASH_BYTES))


def _checked_path(record_type: RecordType, row: _ProofRow) -> tuple[bytes, ...]:
    """The row's stored audit path, once it is shown to lead from the row's leaf to its epoch root."""
    if row.audit_path is None or row.root is None:
        raise EpochIntegrityError(f"epoch {row.epoch} is closed but {record_type} {row.record_id} has no stored path")
    path = split_audit_path(row.audit_path)
    # the leaf is salt + the canonical bytes as committed: hashed straight from the row
    try:
        root = root_from_audit_path(leaf_hash(row.salt + row.canonical), row.leaf_index, row.leaf_count, path)
    except MerkleError as exc:
        raise EpochIntegrityError(f"the stored path of {record_type} {row.record_id} is malformed: {exc}") from exc
    if root != row.root:
        raise EpochIntegrityError(
            f"the stored record of {record_type} {row.record_id} no longer leads to the root of epoch {row.epoch}"
        )
    return path


def _anchor(row: _ProofRow) -> Anchor | None:
    if row.state is EpochState.CONFIRMED and row.tx_hash is not None and row.block is not None:
        return Anchor(network_magic=row.network_magic, contract=row.contract_hash, tx=row.tx_hash, block=row.block)
    return None


def _proof(record_type: RecordType, row: _ProofRow) -> Proof:
    record = parse_json(row.canonical)
    if row.epoch is None or row.leaf_index is None:
        return Proof(record=record, salt=row.salt, inclusion=None, anchor=None)
    inclusion = Inclusion(
        epoch=row.epoch,
        leaf_index=row.leaf_index,
        tree_size=row.leaf_count,
        audit_path=_checked_path(record_type, row),
        root=row.root,
    )
    return Proof(record=record, salt=row.salt, inclusion=inclusion, anchor=_anchor(row))


def _document(record_type: RecordType, row: _ProofRow) -> dict[str, Any]:
    """`_proof(...).to_json()` without building the `Proof`: a statement carries dozens of these,
    and re-encoding each record to recompute a leaf the row already holds is most of their cost
    (a test holds the two to the same output)."""
    if row.epoch is None or row.leaf_index is None:
        return _proof(record_type, row).to_json()
    path = _checked_path(record_type, row)
    anchor = _anchor(row)
    doc: dict[str, Any] = {
        "version": PROOF_VERSION,
        "record": orjson.loads(row.canonical),  # canonical JSON as committed: integers and strings only
        "salt": row.salt.hex(),
        "leaf_index": row.leaf_index,
        "tree_size": row.leaf_count,
        "audit_path": [h.hex() for h in path],
        "root": row.root.hex(),
        "epoch": row.epoch,
        "anchor": None,
    }
    if anchor is None:
        doc["state"] = "pending"
    else:
        doc["anchor"] = {
            "network_magic": anchor.network_magic,
            "contract": anchor.contract,
            "tx": anchor.tx,
            "block": anchor.block,
        }
    return doc


def build_proof(session: Session, *, record_type: RecordType, record_id: int) -> Proof:
    """The proof of one committed record: pending (`anchor` None) until its epoch is confirmed.

    Raises `RecordNotCommitted` when there is no such commitment, `EpochIntegrityError` when the
    stored rows no longer prove it.
    """
    row = session.execute(_ONE, {"record_type": str(record_type), "record_id": record_id}).one_or_none()
    if row is None:
        raise RecordNotCommitted(f"no committed {record_type} with id {record_id}")
    return _proof(record_type, row)


def build_proofs(session: Session, *, record_type: RecordType, record_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    """The proof documents (`Proof.to_json()`) of those of `record_ids` that are committed, by
    record id, in one query."""
    ids = sorted(set(record_ids))
    if not ids:
        return {}
    rows = session.execute(_MANY, {"record_type": str(record_type), "record_ids": ids}).all()
    return {row.record_id: _document(record_type, row) for row in rows}

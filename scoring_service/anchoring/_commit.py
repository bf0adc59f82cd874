"""Committing a finalised record: called inside the transaction that writes the record."""

from collections.abc import Mapping
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Commitment
from protocol import RecordType, canonical_json, leaf_hash, new_salt, record_leaf
from scoring_service.anchoring._errors import CommitmentConflict

__all__ = ["commit_record"]


def commit_record(
    session: Session, *, record_type: RecordType, record_id: int, record: Mapping[str, Any]
) -> Commitment:
    """Add the leaf of `record` (which must carry `"type": record_type`) to the next epoch.

    Idempotent: committing the same content again returns the existing commitment (same salt), so
    a retried request does not create a second leaf. Different content for a committed record raises
    `CommitmentConflict`: what was committed is what gets anchored.
    Raises `protocol.EncodeError` for a record with floats or a wrong `type`.
    """
    if record.get("type") != record_type:
        raise CommitmentConflict(f"record says type {record.get('type')!r}, committed as {record_type!r}")
    canonical = canonical_json(record)
    existing = session.scalars(
        select(Commitment).where(Commitment.record_type == record_type, Commitment.record_id == record_id)
    ).one_or_none()
    if existing is not None:
        if existing.canonical != canonical:
            raise CommitmentConflict(f"{record_type} {record_id} is already committed with other content")
        return existing
    salt = new_salt()
    commitment = Commitment(
        record_type=str(record_type),
        record_id=record_id,
        canonical=canonical,
        salt=salt,
        leaf_hash=leaf_hash(record_leaf(record, salt)),
    )
    session.add(commitment)
    session.flush()
    return commitment

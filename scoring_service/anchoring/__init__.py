"""Anchoring NEOT records on NEO: commitments, Merkle epochs, one anchor transaction per epoch,
and the proof documents that let anyone check a record against the chain.

Importing this package loads the database layer and `protocol` only; the anchoring loop and its
NEO client, which need the chain SDK, are in `scoring_service.anchoring.service`.
"""

from scoring_service.anchoring._commit import commit_record
from scoring_service.anchoring._epochs import EpochPolicy, close_due_epoch, oldest_unanchored, open_epoch
from scoring_service.anchoring._errors import (
    AnchorConflict,
    AnchoringError,
    ChainUnavailable,
    CommitmentConflict,
    EpochIntegrityError,
    RecordNotCommitted,
)
from scoring_service.anchoring._proofs import build_proof, build_proofs, split_audit_path

__all__ = [
    "AnchorConflict",
    "AnchoringError",
    "ChainUnavailable",
    "CommitmentConflict",
    "EpochIntegrityError",
    "EpochPolicy",
    "RecordNotCommitted",
    "build_proof",
    "build_proofs",
    "close_due_epoch",
    "commit_record",
    "oldest_unanchored",
    "open_epoch",
    "split_audit_path",
]

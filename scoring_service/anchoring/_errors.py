"""The exception tree of anchoring and proofs.

AnchoringError               anything anchoring or proof building refuses
├── CommitmentConflict       a record committed again with different content
├── RecordNotCommitted       no commitment for that record type and id (a 404)
├── EpochIntegrityError      stored leaves no longer hash to the epoch's stored root
├── ChainUnavailable         the NEO node cannot be reached or timed out: retry later, nothing lost
└── AnchorConflict           the chain disagrees with our records (epoch anchored elsewhere,
                             transaction faulted): needs an operator, never retried blindly
"""

__all__ = [
    "AnchorConflict",
    "AnchoringError",
    "ChainUnavailable",
    "CommitmentConflict",
    "EpochIntegrityError",
    "RecordNotCommitted",
]


class AnchoringError(Exception):
    """Base of every error raised by `scoring_service.anchoring`."""


class CommitmentConflict(AnchoringError):
    """The record was already committed with other content; a committed record never changes."""


class RecordNotCommitted(AnchoringError):
    """There is no commitment for this record (wrong type or id, or not finalised yet)."""


class EpochIntegrityError(AnchoringError):
    """The leaves stored for an epoch do not rebuild its root: the database was altered."""


class ChainUnavailable(AnchoringError):
    """The node did not answer; the epoch stays in its state and is retried."""


class AnchorConflict(AnchoringError):
    """The chain holds something for this epoch that our records do not explain."""

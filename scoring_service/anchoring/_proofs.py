"""Building a record's proof document from the database alone (no chain access needed).

Closed epochs never change, so their trees are cached: a proof costs one query and no hashing.
"""

from collections import OrderedDict
from threading import Lock

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import AnchorAttempt, Commitment, EpochState, ScoreEpoch
from protocol import Anchor, Inclusion, MerkleTree, Proof, RecordType, parse_json
from scoring_service.anchoring._epochs import epoch_tree
from scoring_service.anchoring._errors import EpochIntegrityError, RecordNotCommitted

__all__ = ["TreeCache", "build_proof"]


class TreeCache:
    """The trees of the most recently used closed epochs, shared by request handlers."""

    def __init__(self, max_epochs: int = 8) -> None:
        self._max = max_epochs
        self._trees: OrderedDict[int, MerkleTree] = OrderedDict()
        self._lock = Lock()

    def tree(self, session: Session, epoch: ScoreEpoch) -> MerkleTree:
        with self._lock:
            if (tree := self._trees.get(epoch.epoch)) is not None:
                self._trees.move_to_end(epoch.epoch)
                return tree
        tree = epoch_tree(session, epoch)
        with self._lock:
            self._trees[epoch.epoch] = tree
            while len(self._trees) > self._max:
                self._trees.popitem(last=False)
        return tree


def build_proof(session: Session, *, record_type: RecordType, record_id: int, trees: TreeCache | None = None) -> Proof:
    """The proof of one committed record: pending (`anchor` None) until its epoch is confirmed.

    Raises `RecordNotCommitted` when there is no such commitment.
    """
    commitment = session.scalars(
        select(Commitment).where(Commitment.record_type == record_type, Commitment.record_id == record_id)
    ).one_or_none()
    if commitment is None:
        raise RecordNotCommitted(f"no committed {record_type} with id {record_id}")
    record = parse_json(commitment.canonical)
    if commitment.epoch is None or commitment.leaf_index is None:
        return Proof(record=record, salt=commitment.salt, inclusion=None, anchor=None)
    epoch = session.scalars(select(ScoreEpoch).where(ScoreEpoch.epoch == commitment.epoch)).one()
    tree = (trees or TreeCache(max_epochs=1)).tree(session, epoch)
    if tree.leaf_hash(commitment.leaf_index) != commitment.leaf_hash:
        raise EpochIntegrityError(f"leaf {commitment.leaf_index} of epoch {epoch.epoch} is not this record's")
    inclusion = Inclusion(
        epoch=epoch.epoch,
        leaf_index=commitment.leaf_index,
        tree_size=tree.size,
        audit_path=tree.audit_path(commitment.leaf_index),
        root=tree.root,
    )
    anchor = None
    if epoch.state is EpochState.CONFIRMED and epoch.tx_hash is not None and epoch.block is not None:
        attempt = session.scalars(select(AnchorAttempt).where(AnchorAttempt.tx_hash == epoch.tx_hash)).one()
        anchor = Anchor(
            network_magic=attempt.network_magic,
            contract=attempt.contract_hash,
            tx=epoch.tx_hash,
            block=epoch.block,
        )
    return Proof(record=record, salt=commitment.salt, inclusion=inclusion, anchor=anchor)

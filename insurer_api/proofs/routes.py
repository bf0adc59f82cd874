"""`GET /v1/proofs/{record_type}/{record_id}`: the proof document of one committed record.

Authorised like the record itself: whoever may read the trip score, statement, repair job or
driver may fetch its proof; anyone else gets the same 404 as for a record that does not exist.
The document is the one `neot verify` checks (see `protocol.Proof`); until the record's epoch is
anchored it says `"anchor": null, "state": "pending"`.
"""

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import select
from sqlalchemy.orm import Session

from insurer_api.access import driver_visible, get_visible, policy_visible, statement_visible, trip_score_visible
from insurer_api.deps import CurrentUser, ObjectId, SessionDep, require_role
from insurer_api.errors import NotFoundError
from models import Commitment, Driver, Policy, RepairJob, Role, Statement, TripScore, User
from protocol import RecordType, parse_json
from scoring_service.anchoring import RecordNotCommitted, build_proof

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["proofs"])

_HEX32 = {"type": "string", "pattern": "^[0-9a-f]{64}$"}
# The document `protocol.Proof.to_json` writes and `neot verify` reads, for the OpenAPI document.
PROOF_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["version", "record", "salt", "leaf_index", "tree_size", "audit_path", "root", "epoch", "anchor"],
    "properties": {
        "version": {"const": 1},
        "record": {"type": "object", "required": ["type"], "description": "The committed record, canonical JSON"},
        "salt": _HEX32,
        "leaf_index": {"type": ["integer", "null"], "minimum": 0},
        "tree_size": {"type": ["integer", "null"], "minimum": 1},
        "audit_path": {"type": "array", "items": _HEX32, "description": "Sibling hashes, leaf to root"},
        "root": {"oneOf": [_HEX32, {"type": "null"}]},
        "epoch": {"type": ["integer", "null"], "minimum": 0},
        "anchor": {
            "oneOf": [
                {"type": "null"},
                {
                    "type": "object",
                    "required": ["network_magic", "contract", "tx", "block"],
                    "properties": {
                        "network_magic": {"type": "integer"},
                        "contract": {"type": "string", "pattern": "^0x[0-9a-f]{40}$"},
                        "tx": {"type": "string", "pattern": "^0x[0-9a-f]{64}$"},
                        "block": {"type": "integer", "minimum": 0},
                    },
                },
            ]
        },
        "state": {"const": "pending", "description": "Present only while the epoch is not anchored"},
    },
}


def _authorise(session: Session, user: User, record_type: RecordType, record_id: int) -> None:
    """404 unless `user` may read the record the proof is about."""
    match record_type:
        case RecordType.TRIP_SCORE:
            get_visible(
                session=session,
                model=TripScore,
                object_id=record_id,
                visible=trip_score_visible(user),
                kind="trip score",
            )
        case RecordType.PREMIUM_STATEMENT:
            get_visible(
                session=session, model=Statement, object_id=record_id, visible=statement_visible(user), kind="statement"
            )
        case RecordType.REPAIR_PAYOUT:
            if user.role is Role.REPAIR_SHOP:
                visible = RepairJob.shop_id == user.shop_id  # the shop paid by the job
            else:
                visible = RepairJob.policy_id.in_(select(Policy.id).where(policy_visible(user)))
            get_visible(session=session, model=RepairJob, object_id=record_id, visible=visible, kind="repair job")
        case RecordType.DRIVER_SCORE:
            # a driver score is about the driver the committed record names
            canonical = session.scalar(
                select(Commitment.canonical).where(
                    Commitment.record_type == record_type, Commitment.record_id == record_id
                )
            )
            driver_id = parse_json(canonical).get("driver_id") if canonical is not None else None
            if not isinstance(driver_id, int):
                raise NotFoundError.of("driver score", record_id)
            get_visible(
                session=session, model=Driver, object_id=driver_id, visible=driver_visible(user), kind="driver score"
            )


@router.get(
    "/proofs/{record_type}/{record_id}",
    dependencies=[require_role(Role.ADMIN, Role.INSURER, Role.DRIVER, Role.REPAIR_SHOP)],
    responses={
        200: {"description": "The proof document", "content": {"application/json": {"schema": PROOF_SCHEMA}}},
        404: {"description": "No such record, not visible to the caller, or not committed yet"},
    },
)
def get_proof(record_type: RecordType, record_id: ObjectId, session: SessionDep, user: CurrentUser) -> JSONResponse:
    """The record, its salt, its audit path, the epoch root and where that root is anchored on NEO."""
    _authorise(session, user, record_type, record_id)
    try:
        proof = build_proof(session, record_type=record_type, record_id=record_id)
    except RecordNotCommitted as exc:
        raise NotFoundError(f"{record_type} {record_id} has no commitment yet") from exc
    document: dict[str, Any] = proof.to_json()
    return JSONResponse(document)

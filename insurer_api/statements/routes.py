"""`/v1/policies/{id}/statements`, `/v1/statements`: monthly premium statements, charged on issue."""

from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from insurer_api.deps import CurrentUser, ObjectId, SessionDep, require_role
from insurer_api.errors import ApiError, ConflictError, InvalidRequestError
from insurer_api.pagination import PageDep, respond
from insurer_api.payments import (
    IdempotencyKey,
    IdempotencyKeyReusedError,
    RequestInProgressError,
    idempotent,
    request_fingerprint,
)
from insurer_api.responses import model_response
from insurer_api.schemas import MAX_ID
from insurer_api.statements._charging import ChargeOutcome, StatementCharger, request_charge
from insurer_api.statements._crud import (
    get_statement,
    issue_statement,
    list_statements,
    parse_period,
    payment_of,
    score_refs,
    statement_document_of,
)
from insurer_api.statements._models import current_risk_model
from insurer_api.statements._schemas import PaymentRef, StatementIssue, StatementPublic, StatementScoreRef
from models import Role, Statement

__all__ = ["router", "statement_public"]

router = APIRouter(prefix="/v1", tags=["statements"])
_log = structlog.get_logger(__name__)

_READERS = require_role(Role.ADMIN, Role.INSURER, Role.DRIVER)


def statement_public(
    *,
    session: Session,
    statement: Statement,
    with_proofs: bool = True,
    charge: ChargeOutcome | None = None,
) -> StatementPublic:
    """The API view of a statement; the window starts where the month and the policy both have."""
    policy = statement.policy
    payment = charge.payment if charge is not None else payment_of(session=session, statement=statement)
    refs = score_refs(session=session, statement=statement, with_proofs=with_proofs)
    return StatementPublic(
        id=statement.id,
        policy_id=statement.policy_id,
        period=f"{statement.period_start:%Y-%m}",
        window_start=max(statement.period_start, policy.period_start),
        window_end=statement.period_end,
        distance_m=statement.distance_m,
        trip_count=statement.trip_count,
        driver_score=statement.driver_score,
        product_id=policy.product_id,
        product_version=policy.product_version,
        risk_factor=statement.risk_factor,
        model_version=statement.model_version,
        model_sha256=statement.model_sha256,
        base_premium=statement.base_premium,
        premium=statement.premium,
        statement_sha256=statement.statement_sha256.hex(),
        issued_at=statement.issued_at,
        scores=[StatementScoreRef(score_id=u.score_id, trip_id=u.trip_id, score=u.score, proof=u.proof) for u in refs],
        payment=None
        if payment is None
        else PaymentRef(id=payment.id, state=payment.state, tx_hash=payment.intended_tx, block=payment.block),
        charge_error=charge.error if charge is not None else None,
    )


def _charger(request: Request) -> StatementCharger | None:
    charger: StatementCharger | None = request.app.state.statement_charger
    return charger


@router.post(
    "/policies/{policy_id}/statements",
    response_model=StatementPublic,
    status_code=201,
    dependencies=[require_role(Role.INSURER)],
    summary="Issue a month's statement and charge it on chain",
    responses={200: {"model": StatementPublic, "description": "The month was billed before: the stored statement"}},
)
def post_statement(
    policy_id: ObjectId,
    body: StatementIssue,
    idempotency_key: IdempotencyKey,
    user: CurrentUser,
    session: SessionDep,
    request: Request,
) -> Response:
    """Prices the month from the driver's trips, stores the statement (once per policy and month)
    and charges the driver's escrow deposit for it: `charge(policy, period, premium, sha256)`.

    201 when issued now, 200 when the month was billed before (its charge is retried if it has not
    gone through). A refused charge leaves the statement issued: see `charge_error`.
    """
    month = parse_period(body.period)
    models_dir = request.app.state.settings.data_dir / "models"
    charger = _charger(request)

    def work() -> tuple[int, dict[str, Any]]:
        statement, created = issue_statement(
            session=session, issuer=user, policy_id=policy_id, month=month, model=current_risk_model(models_dir)
        )
        if created:
            _log.info("statement issued", statement_id=statement.id, policy_id=policy_id, premium=statement.premium)
        outcome = request_charge(session, statement, charger)
        view = statement_public(session=session, statement=statement, charge=outcome)
        return (201 if created else 200), view.model_dump(mode="json")

    def final(exc: Exception) -> tuple[int, dict[str, Any]] | None:
        return (exc.status_code, {"detail": exc.message}) if isinstance(exc, ApiError) else None

    try:
        answer = idempotent(
            session,
            principal=f"user:{user.id}",
            key=idempotency_key,
            fingerprint=request_fingerprint(method="POST", path=request.url.path, body=body.model_dump(mode="json")),
            work=work,
            is_final_error=final,
        )
    except IdempotencyKeyReusedError as exc:
        raise InvalidRequestError(str(exc)) from exc
    except RequestInProgressError as exc:
        raise ConflictError(str(exc)) from exc
    return JSONResponse(answer.body, status_code=answer.status_code)


@router.get(
    "/policies/{policy_id}/statements",
    response_model=list[StatementPublic],
    dependencies=[_READERS],
    summary="A policy's statements",
)
def get_policy_statements(
    policy_id: ObjectId, user: CurrentUser, session: SessionDep, page: PageDep, response: Response
) -> list[StatementPublic]:
    result = list_statements(session=session, viewer=user, policy_id=policy_id, page=page)
    return [statement_public(session=session, statement=s, with_proofs=False) for s in respond(response, page, result)]


@router.get(
    "/statements", response_model=list[StatementPublic], dependencies=[_READERS], summary="Statements you may see"
)
def get_statements(
    user: CurrentUser,
    session: SessionDep,
    page: PageDep,
    response: Response,
    policy_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
) -> list[StatementPublic]:
    result = list_statements(session=session, viewer=user, policy_id=policy_id, page=page)
    return [statement_public(session=session, statement=s, with_proofs=False) for s in respond(response, page, result)]


@router.get(
    "/statements/{statement_id}",
    response_model=StatementPublic,
    dependencies=[_READERS],
    summary="One statement with the scores it used and their proofs",
)
def get_one_statement(statement_id: ObjectId, user: CurrentUser, session: SessionDep) -> Response:
    statement = get_statement(session=session, viewer=user, statement_id=statement_id)
    return model_response(statement_public(session=session, statement=statement))


@router.get(
    "/statements/{statement_id}/document",
    dependencies=[_READERS],
    summary="The canonical statement document (its SHA-256 is `statement_sha256`)",
    response_class=Response,
    responses={200: {"content": {"application/json": {}}, "description": "Canonical JSON bytes"}},
)
def get_statement_document(statement_id: ObjectId, user: CurrentUser, session: SessionDep) -> Response:
    statement = get_statement(session=session, viewer=user, statement_id=statement_id)
    return Response(statement_document_of(session=session, statement=statement), media_type="application/json")

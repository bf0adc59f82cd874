"""`/v1/repair-shops`, `/v1/repair-jobs`, and the intake of trouble codes: repair jobs paid from escrow.

Who may do what:

| endpoint                                 | admin | insurer          | driver           | shop       | device |
| ---------------------------------------- | ----- | ---------------- | ---------------- | ---------- | ------ |
| POST /repair-shops (sign up)             | anyone, not signed in                                              |
| GET /repair-shops[/{id}[/record]]        | all   | all (public)     | all (public)     | all        |        |
| PATCH /repair-shops/{id}                 | any   | 403              | 403              | its own    |        |
| POST /repair-jobs (claim)                | 403   | own policies     | 403              | 403        |        |
| GET /repair-jobs[/{id}[/explanation]]    | all   | own policies     | own policies     | its jobs   |        |
| POST /repair-jobs/{id}/invoice           | 403   | 403              | 403              | its jobs   |        |
| POST /repair-jobs/{id}/approve, /fail    | 403   | own policies     | 403              | 403        |        |
| POST /devices/trouble-codes              | signed by the device key in the body (`repair_intake`)           |

Every POST that can move money takes an `Idempotency-Key`. Trouble-code reports arrive at the device
edge (`scoring_service.devices`), which authenticates and stores them and hands them to `repair_intake`.
"""

import asyncio
import re
from typing import Any

import structlog
from fastapi import APIRouter, Request, Response
from sqlalchemy import ColumnElement, false, func, select, true
from sqlalchemy.orm import Session

from insurer_api.access import get_visible, policy_visible
from insurer_api.auth import create_user, get_user_by_username
from insurer_api.deps import CurrentUser, ObjectId, SessionDep, require_role
from insurer_api.errors import (
    ApiError,
    ConflictError,
    InvalidRequestError,
    NotFoundError,
)
from insurer_api.pagination import PageDep, by_id, paged, respond
from insurer_api.payments import (
    IdempotencyKey,
    PaymentError,
    api_error,
    gateway_of,
    royalty_of,
    run_idempotent,
)
from insurer_api.repair import _service as service
from insurer_api.repair._errors import InvalidRepairError, JobStateError, RepairError
from insurer_api.repair._evaluation import is_senior
from insurer_api.repair._explain import explain
from insurer_api.repair._negotiation import TrackRecord, track_records
from insurer_api.repair._schemas import (
    ExplanationPublic,
    FailBody,
    InvoiceBody,
    JobCreate,
    JobPublic,
    ShopPublic,
    ShopSignup,
    ShopUpdate,
    TrackRecordPublic,
)
from models import JobState, Policy, PolicyStatus, RepairJob, RepairShop, Role, User, Vehicle
from scoring_service.devices import TroubleCodes

__all__ = ["DTC_AUTHORISED_AMOUNT", "job_visible", "repair_intake", "router"]

router = APIRouter(prefix="/v1", tags=["repair"])
_log = structlog.get_logger(__name__)

# What an insurer authorises for a job opened by a trouble code (500 NEOT); claims name their own.
DTC_AUTHORISED_AMOUNT = 500 * 10**8
# What `IdempotencyKey` accepts, for the intake that reads the header itself.
_IDEMPOTENCY_KEY = re.compile(r"[\x21-\x7e]{1,200}")

_SIGNED_IN = require_role(Role.ADMIN, Role.INSURER, Role.DRIVER, Role.REPAIR_SHOP)
_JOB_READERS = _SIGNED_IN


def job_visible(user: User) -> ColumnElement[bool]:
    """Admin: all; insurer and driver: jobs under their policies; shop: jobs assigned to it."""
    match user.role:
        case Role.ADMIN:
            return true()
        case Role.INSURER | Role.DRIVER:
            return RepairJob.policy_id.in_(select(Policy.id).where(policy_visible(user)))
        case Role.REPAIR_SHOP:
            return RepairJob.shop_id == user.shop_id
        case _:
            return false()


def _translate(exc: Exception) -> ApiError | None:
    match exc:
        case JobStateError():
            return ConflictError(str(exc))
        case InvalidRepairError():
            return InvalidRequestError(str(exc))
        case RepairError():
            return ConflictError(str(exc))
        case _:
            return None


def _shop_public(session: Session, shop: RepairShop) -> ShopPublic:
    busy = session.scalar(
        select(func.count()).where(RepairJob.shop_id == shop.id, RepairJob.state.in_(service.ACTIVE_STATES))
    )
    return ShopPublic(
        id=shop.id,
        name=shop.name,
        neo_address=shop.neo_address,
        services=list(shop.services),
        capacity=shop.capacity,
        open_jobs=int(busy or 0),
    )


def _job(session: Session, user: User, job_id: int) -> RepairJob:
    return get_visible(session=session, model=RepairJob, object_id=job_id, visible=job_visible(user), kind="repair job")


def _job_body(job: RepairJob) -> dict[str, Any]:
    return JobPublic.model_validate(job).model_dump(mode="json")


# ---- shops -----------------------------------------------------------------------------------


@router.post("/repair-shops", response_model=ShopPublic, status_code=201, summary="Sign up as a repair shop")
def post_shop(body: ShopSignup, session: SessionDep) -> ShopPublic:
    """Open to anyone: registers the shop's public offer and its account (sign in with `username`)."""
    if get_user_by_username(session=session, username=body.username) is not None:
        raise ConflictError(f"an account for {body.username!r} already exists")
    if session.scalar(select(RepairShop.id).where(RepairShop.neo_address == body.neo_address)) is not None:
        raise ConflictError(f"a shop with address {body.neo_address} is already registered")
    try:
        shop = service.register_shop(
            session, name=body.name, neo_address=body.neo_address, services=body.services, capacity=body.capacity
        )
    except InvalidRepairError as exc:
        raise InvalidRequestError(str(exc)) from exc
    create_user(session=session, username=body.username, password=body.password, role=Role.REPAIR_SHOP, shop_id=shop.id)
    session.commit()
    _log.info("repair shop registered", shop_id=shop.id)
    return _shop_public(session, shop)


@router.get(
    "/repair-shops",
    response_model=list[ShopPublic],
    dependencies=[_SIGNED_IN],
    summary="Every shop: the public inputs of Negotiation",
)
def get_shops(session: SessionDep, page: PageDep, response: Response) -> list[ShopPublic]:
    shops = paged(session.scalars(page.apply(select(RepairShop), RepairShop.id)).all(), page, by_id)
    return [_shop_public(session, s) for s in respond(response, page, shops)]


def _shop(session: Session, shop_id: int) -> RepairShop:
    shop = session.get(RepairShop, shop_id)
    if shop is None:
        raise NotFoundError.of("repair shop", shop_id)
    return shop


@router.get("/repair-shops/{shop_id}", response_model=ShopPublic, dependencies=[_SIGNED_IN], summary="One shop")
def get_shop(shop_id: ObjectId, session: SessionDep) -> ShopPublic:
    return _shop_public(session, _shop(session, shop_id))


@router.patch(
    "/repair-shops/{shop_id}",
    response_model=ShopPublic,
    dependencies=[require_role(Role.ADMIN, Role.REPAIR_SHOP)],
    summary="Change a shop's services or capacity",
)
def patch_shop(shop_id: ObjectId, body: ShopUpdate, user: CurrentUser, session: SessionDep) -> ShopPublic:
    if user.role is Role.REPAIR_SHOP and user.shop_id != shop_id:
        raise NotFoundError.of("repair shop", shop_id)
    shop = _shop(session, shop_id)
    if body.services is not None:
        shop.services = sorted(set(body.services))
    if body.capacity is not None:
        shop.capacity = body.capacity
    session.commit()
    return _shop_public(session, shop)


@router.get(
    "/repair-shops/{shop_id}/record",
    response_model=TrackRecordPublic,
    dependencies=[_SIGNED_IN],
    summary="A shop's track record, rebuilt from escrow events on chain",
)
def get_shop_record(shop_id: ObjectId, session: SessionDep, request: Request) -> TrackRecordPublic:
    shop = _shop(session, shop_id)
    gateway = gateway_of(request)

    async def read() -> tuple[TrackRecord, int]:
        height = await gateway.height()
        events = service.escrow_events(await gateway.escrow_events())
        return track_records(events, up_to_block=height).get(shop.neo_address, TrackRecord()), height

    try:
        record, height = asyncio.run(read())
    except PaymentError as exc:
        raise api_error(exc) from exc
    rate = record.smoothed_rate
    return TrackRecordPublic(
        neo_address=shop.neo_address,
        jobs=record.jobs,
        successes=record.successes,
        smoothed_rate=f"{rate.numerator}/{rate.denominator}",
        senior=is_senior(record),
        chain_height=height,
    )


# ---- jobs ------------------------------------------------------------------------------------


@router.post(
    "/repair-jobs",
    response_model=JobPublic,
    status_code=201,
    dependencies=[require_role(Role.INSURER)],
    summary="Open a repair job for a claim: Negotiation picks the shop, the amount is locked in escrow",
)
def post_job(
    body: JobCreate, idempotency_key: IdempotencyKey, user: CurrentUser, session: SessionDep, request: Request
) -> Response:
    policy = get_visible(
        session=session, model=Policy, object_id=body.policy_id, visible=policy_visible(user), kind="policy"
    )
    gateway, royalty = gateway_of(request), royalty_of(request)

    def work() -> tuple[int, dict[str, Any]]:
        job = asyncio.run(
            service.open_job(
                session,
                gateway,
                policy=policy,
                service=body.service,
                authorised_amount=body.authorised_amount,
                opened_by="claim",
                royalty_address=royalty,
            )
        )
        _log.info("repair job opened by claim", job_id=job.id, state=job.state.value)
        return 201, _job_body(job)

    return run_idempotent(
        request,
        session,
        principal=f"user:{user.id}",
        key=idempotency_key,
        body=body.model_dump(mode="json"),
        work=work,
        translate=_translate,
    )


def repair_intake(report: TroubleCodes, request: Request, session: Session) -> Response:
    """The repair intake of trouble-code reports, installed on the app by `create_app`: the device
    edge (`scoring_service.devices`) has authenticated and stored the report; new codes open jobs,
    vanished codes verify completion, once per `Idempotency-Key`."""
    key = request.headers.get("Idempotency-Key")
    if key is None or not _IDEMPOTENCY_KEY.fullmatch(key):
        raise InvalidRequestError("an Idempotency-Key header of 1 to 200 printable characters is required")
    policy = session.scalar(
        select(Policy)
        .join(Vehicle, Vehicle.id == Policy.vehicle_id)
        .where(Vehicle.id == report.device.vehicle_id, Policy.status == PolicyStatus.ACTIVE)
        .order_by(Policy.id.desc())
    )
    if policy is None:
        raise ConflictError("the vehicle has no active policy to pay for a repair")
    gateway, royalty = gateway_of(request), royalty_of(request)

    def work() -> tuple[int, dict[str, Any]]:
        jobs = asyncio.run(
            service.report_trouble_codes(
                session,
                gateway,
                policy=policy,
                active_codes=report.codes,
                authorised_amount=DTC_AUTHORISED_AMOUNT,
                royalty_address=royalty,
            )
        )
        return 200, {"jobs": [_job_body(j) for j in jobs]}

    body = {
        "device": report.device.address,
        "sent_ns": report.sent_ns,
        "codes": list(report.codes),
        "signature": report.signature.hex(),
    }
    return run_idempotent(
        request,
        session,
        principal=f"device:{report.device.address}",
        key=key,
        body=body,
        work=work,
        translate=_translate,
    )


@router.get("/repair-jobs", response_model=list[JobPublic], dependencies=[_JOB_READERS], summary="Jobs you may see")
def get_jobs(user: CurrentUser, session: SessionDep, page: PageDep, response: Response) -> list[JobPublic]:
    query = page.apply(select(RepairJob).where(job_visible(user)), RepairJob.id)
    jobs = paged(session.scalars(query).all(), page, by_id)
    return [JobPublic.model_validate(j) for j in respond(response, page, jobs)]


@router.get("/repair-jobs/{job_id}", response_model=JobPublic, dependencies=[_JOB_READERS], summary="One job")
def get_job(job_id: ObjectId, user: CurrentUser, session: SessionDep) -> JobPublic:
    return JobPublic.model_validate(_job(session, user, job_id))


@router.get(
    "/repair-jobs/{job_id}/explanation",
    response_model=ExplanationPublic,
    dependencies=[_JOB_READERS],
    summary="Negotiation recomputed from the job's stored public inputs, and why the shop won",
)
def get_explanation(job_id: ObjectId, user: CurrentUser, session: SessionDep) -> ExplanationPublic:
    job = _job(session, user, job_id)
    if job.negotiation is None:
        raise ConflictError(f"repair job {job_id} has not been negotiated")
    result = explain(job.negotiation)
    return ExplanationPublic(
        job_id=job.id,
        winner=result.stored_winner,
        reproduced=result.reproduced,
        reason=result.reason,
        negotiation=dict(job.negotiation),
    )


@router.post(
    "/repair-jobs/{job_id}/invoice",
    response_model=JobPublic,
    dependencies=[require_role(Role.REPAIR_SHOP)],
    summary="The shop bills the job",
)
def post_invoice(
    job_id: ObjectId,
    body: InvoiceBody,
    idempotency_key: IdempotencyKey,
    user: CurrentUser,
    session: SessionDep,
    request: Request,
) -> Response:
    """If completion was already verified, Evaluation pays out at once."""
    job = _job(session, user, job_id)

    # an invoice on a job whose completion is not verified yet moves no money: no chain needed
    gateway = gateway_of(request) if job.state is JobState.COMPLETED else None

    def work() -> tuple[int, dict[str, Any]]:
        asyncio.run(service.submit_invoice(session, gateway, job=job, amount=body.amount))
        return 200, _job_body(job)

    return run_idempotent(
        request,
        session,
        principal=f"user:{user.id}",
        key=idempotency_key,
        body=body.model_dump(mode="json"),
        work=work,
        translate=_translate,
    )


@router.post(
    "/repair-jobs/{job_id}/approve",
    response_model=JobPublic,
    dependencies=[require_role(Role.INSURER)],
    summary="The insurer confirms the repair: Evaluation pays the shop",
)
def post_approve(
    job_id: ObjectId, idempotency_key: IdempotencyKey, user: CurrentUser, session: SessionDep, request: Request
) -> Response:
    job = _job(session, user, job_id)
    gateway = gateway_of(request)

    def work() -> tuple[int, dict[str, Any]]:
        asyncio.run(service.approve(session, gateway, job=job, reason="approved by the insurer"))
        return 200, _job_body(job)

    return run_idempotent(
        request, session, principal=f"user:{user.id}", key=idempotency_key, body={}, work=work, translate=_translate
    )


@router.post(
    "/repair-jobs/{job_id}/fail",
    response_model=JobPublic,
    dependencies=[require_role(Role.INSURER)],
    summary="A failed or disputed job: the locked amount returns to the insurer",
)
def post_fail(
    job_id: ObjectId,
    body: FailBody,
    idempotency_key: IdempotencyKey,
    user: CurrentUser,
    session: SessionDep,
    request: Request,
) -> Response:
    job = _job(session, user, job_id)
    gateway = gateway_of(request)

    def work() -> tuple[int, dict[str, Any]]:
        asyncio.run(service.fail(session, gateway, job=job, reason=body.reason))
        return 200, _job_body(job)

    return run_idempotent(
        request,
        session,
        principal=f"user:{user.id}",
        key=idempotency_key,
        body=body.model_dump(mode="json"),
        work=work,
        translate=_translate,
    )

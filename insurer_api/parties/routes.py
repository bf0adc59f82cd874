"""`/v1/insurers`, `/v1/drivers`, `/v1/users`: who takes part, and their accounts."""

import structlog
from fastapi import APIRouter, Request, Response

from insurer_api.auth import RevocationList, UserPublic, deactivate_user
from insurer_api.deps import CurrentUser, ObjectId, SessionDep, require_role
from insurer_api.pagination import PageDep, respond
from insurer_api.parties._crud import (
    create_account,
    create_insurer,
    get_driver,
    get_insurer,
    list_drivers,
    list_insurers,
    sign_up_driver,
)
from insurer_api.parties._schemas import DriverPublic, DriverSignup, InsurerCreate, InsurerPublic, UserCreate
from models import Role, User

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["parties"])
_log = structlog.get_logger(__name__)

_READERS = require_role(Role.ADMIN, Role.INSURER, Role.DRIVER)


@router.post(
    "/insurers",
    response_model=InsurerPublic,
    status_code=201,
    dependencies=[require_role(Role.ADMIN)],
    summary="Register an insurer with its first operator account",
)
def post_insurer(body: InsurerCreate, session: SessionDep) -> InsurerPublic:
    insurer = create_insurer(session=session, data=body)
    session.commit()
    _log.info("insurer created", insurer_id=insurer.id)
    return InsurerPublic.model_validate(insurer)


@router.get("/insurers", response_model=list[InsurerPublic], dependencies=[_READERS], summary="Insurers you deal with")
def get_insurers(user: CurrentUser, session: SessionDep, page: PageDep, response: Response) -> list[InsurerPublic]:
    result = list_insurers(session=session, viewer=user, page=page)
    return [InsurerPublic.model_validate(i) for i in respond(response, page, result)]


@router.get("/insurers/{insurer_id}", response_model=InsurerPublic, dependencies=[_READERS], summary="One insurer")
def get_one_insurer(insurer_id: ObjectId, user: CurrentUser, session: SessionDep) -> InsurerPublic:
    return InsurerPublic.model_validate(get_insurer(session=session, viewer=user, insurer_id=insurer_id))


@router.post("/drivers", response_model=DriverPublic, status_code=201, summary="Sign up as a driver")
def post_driver(body: DriverSignup, session: SessionDep) -> DriverPublic:
    """Open to anyone: creates the driver and the driver's account (sign in with the e-mail)."""
    driver = sign_up_driver(session=session, data=body)
    session.commit()
    _log.info("driver signed up", driver_id=driver.id)
    return DriverPublic.model_validate(driver)


@router.get("/drivers", response_model=list[DriverPublic], dependencies=[_READERS], summary="Drivers you may see")
def get_drivers(user: CurrentUser, session: SessionDep, page: PageDep, response: Response) -> list[DriverPublic]:
    result = list_drivers(session=session, viewer=user, page=page)
    return [DriverPublic.model_validate(d) for d in respond(response, page, result)]


@router.get("/drivers/{driver_id}", response_model=DriverPublic, dependencies=[_READERS], summary="One driver")
def get_one_driver(driver_id: ObjectId, user: CurrentUser, session: SessionDep) -> DriverPublic:
    return DriverPublic.model_validate(get_driver(session=session, viewer=user, driver_id=driver_id))


@router.post(
    "/users",
    response_model=UserPublic,
    status_code=201,
    dependencies=[require_role(Role.ADMIN)],
    summary="Create an account for an existing party",
)
def post_user(body: UserCreate, session: SessionDep) -> UserPublic:
    user = create_account(session=session, data=body)
    session.commit()
    _log.info("account created", user_id=user.id, role=user.role.value)
    return UserPublic.model_validate(user)


@router.post(
    "/users/{user_id}/deactivate",
    response_model=UserPublic,
    dependencies=[require_role(Role.ADMIN)],
    summary="Disable an account: its tokens and API keys stop working",
)
def post_deactivate_user(user_id: ObjectId, session: SessionDep, request: Request) -> UserPublic:
    """Refused here at once, and by every other API process within one revocation poll."""
    revocation = deactivate_user(session=session, user_id=user_id)
    session.commit()
    revocations: RevocationList = request.app.state.revocations
    revocations.note(user_id, revocation.revoked_at)
    _log.info("account disabled", user_id=user_id)
    user = session.get(User, user_id)
    return UserPublic.model_validate(user)

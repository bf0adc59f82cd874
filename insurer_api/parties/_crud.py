"""Data access for insurers, drivers and user accounts (keyword-only, never commits)."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from insurer_api.access import driver_visible, get_visible, insurer_visible
from insurer_api.auth import create_user, get_user_by_username
from insurer_api.errors import ConflictError, InvalidRequestError
from insurer_api.pagination import Page, Paged, by_id, paged
from insurer_api.parties._schemas import DriverSignup, InsurerCreate, UserCreate
from models import Driver, Insurer, RepairShop, Role, User

__all__ = [
    "create_account",
    "create_insurer",
    "get_driver",
    "get_insurer",
    "list_drivers",
    "list_insurers",
    "sign_up_driver",
]


def create_insurer(*, session: Session, data: InsurerCreate) -> Insurer:
    """An insurer row and its first operator account, together or not at all."""
    if session.scalar(select(Insurer.id).where(Insurer.name == data.name)) is not None:
        raise ConflictError(f"an insurer named {data.name!r} already exists")
    insurer = Insurer(name=data.name, neo_address=data.neo_address)
    session.add(insurer)
    session.flush()
    create_user(
        session=session, username=data.username, password=data.password, role=Role.INSURER, insurer_id=insurer.id
    )
    return insurer


def sign_up_driver(*, session: Session, data: DriverSignup) -> Driver:
    """A driver row and the driver's account (user name = e-mail address)."""
    taken = session.scalar(select(Driver.id).where(Driver.email == data.email)) is not None
    if taken or get_user_by_username(session=session, username=data.email) is not None:
        raise ConflictError(f"an account for {data.email!r} already exists")
    driver = Driver(name=data.name, email=data.email, neo_address=data.neo_address)
    session.add(driver)
    session.flush()
    create_user(session=session, username=data.email, password=data.password, role=Role.DRIVER, driver_id=driver.id)
    return driver


_PARTY: dict[Role, tuple[type[Driver] | type[Insurer] | type[RepairShop], str]] = {
    Role.DRIVER: (Driver, "driver_id"),
    Role.INSURER: (Insurer, "insurer_id"),
    Role.REPAIR_SHOP: (RepairShop, "shop_id"),
}


def create_account(*, session: Session, data: UserCreate) -> User:
    """A user acting for an existing party row (or an admin, who acts for none)."""
    if data.role is Role.ADMIN:
        if data.party_id is not None:
            raise InvalidRequestError("an admin account acts for no party: leave party_id out")
        return create_user(session=session, username=data.username, password=data.password, role=Role.ADMIN)
    model, column = _PARTY[data.role]
    if data.party_id is None or session.get(model, data.party_id) is None:
        raise InvalidRequestError(f"role {data.role.value} needs party_id of an existing {model.__tablename__} row")
    return create_user(
        session=session, username=data.username, password=data.password, role=data.role, **{column: data.party_id}
    )


def list_insurers(*, session: Session, viewer: User, page: Page) -> Paged[Insurer]:
    query = page.apply(select(Insurer).where(insurer_visible(viewer)), Insurer.id)
    return paged(session.scalars(query).all(), page, by_id)


def get_insurer(*, session: Session, viewer: User, insurer_id: int) -> Insurer:
    return get_visible(
        session=session, model=Insurer, object_id=insurer_id, visible=insurer_visible(viewer), kind="insurer"
    )


def list_drivers(*, session: Session, viewer: User, page: Page) -> Paged[Driver]:
    query = page.apply(select(Driver).where(driver_visible(viewer)), Driver.id)
    return paged(session.scalars(query).all(), page, by_id)


def get_driver(*, session: Session, viewer: User, driver_id: int) -> Driver:
    return get_visible(
        session=session, model=Driver, object_id=driver_id, visible=driver_visible(viewer), kind="driver"
    )

"""Object-level authorisation: which rows a signed-in user may see, as SQL conditions.

Role checks (may this role call the endpoint at all?) are route dependencies; these conditions
answer the finer question (is this row theirs?). Every read goes through them, so a row outside
the caller's reach is simply not found: 404, never 403, never a hint that it exists.

| row       | admin | insurer                          | driver                    | repair shop |
| --------- | ----- | -------------------------------- | ------------------------- | ----------- |
| insurer   | all   | itself                           | insurers of its policies  | none        |
| driver    | all   | drivers holding its policies     | itself                    | none        |
| vehicle   | all   | vehicles under its policies      | its own                   | none        |
| device    | all   | on vehicles under its policies   | on its own vehicles       | none        |
| trip      | all   | of vehicles under its policies   | of its own vehicles       | none        |
| policy    | all   | its own                          | its own                   | none        |
| product   | all   | its own                          | all (the catalogue)       | none        |
| statement | all   | of its policies                  | of its policies           | none        |
"""

from typing import Any

from sqlalchemy import ColumnElement, exists, false, select, true
from sqlalchemy.orm import Session

from insurer_api.errors import NotFoundError
from models import Device, Driver, Insurer, Policy, Product, Role, Statement, Trip, TripScore, User, Vehicle

__all__ = [
    "device_visible",
    "driver_visible",
    "get_visible",
    "insurer_visible",
    "policy_visible",
    "product_visible",
    "statement_visible",
    "trip_score_visible",
    "trip_visible",
    "vehicle_visible",
]

type Condition = ColumnElement[bool]


def policy_visible(user: User) -> Condition:
    match user.role:
        case Role.ADMIN:
            return true()
        case Role.INSURER:
            return Policy.insurer_id == user.insurer_id
        case Role.DRIVER:
            return Policy.driver_id == user.driver_id
        case _:
            return false()


def insurer_visible(user: User) -> Condition:
    match user.role:
        case Role.ADMIN:
            return true()
        case Role.INSURER:
            return Insurer.id == user.insurer_id
        case Role.DRIVER:
            return exists().where(Policy.insurer_id == Insurer.id, Policy.driver_id == user.driver_id)
        case _:
            return false()


def driver_visible(user: User) -> Condition:
    match user.role:
        case Role.ADMIN:
            return true()
        case Role.DRIVER:
            return Driver.id == user.driver_id
        case Role.INSURER:
            return exists().where(Policy.driver_id == Driver.id, Policy.insurer_id == user.insurer_id)
        case _:
            return false()


def vehicle_visible(user: User) -> Condition:
    match user.role:
        case Role.ADMIN:
            return true()
        case Role.DRIVER:
            return Vehicle.driver_id == user.driver_id
        case Role.INSURER:
            return exists().where(Policy.vehicle_id == Vehicle.id, Policy.insurer_id == user.insurer_id)
        case _:
            return false()


def _visible_vehicle_ids(user: User) -> Any:
    return select(Vehicle.id).where(vehicle_visible(user))


def device_visible(user: User) -> Condition:
    return Device.vehicle_id.in_(_visible_vehicle_ids(user))


def trip_visible(user: User) -> Condition:
    devices = select(Device.id).where(device_visible(user))
    return Trip.device_id.in_(devices)


def trip_score_visible(user: User) -> Condition:
    trips = select(Trip.id).where(trip_visible(user))
    return TripScore.trip_id.in_(trips)


def product_visible(user: User) -> Condition:
    match user.role:
        case Role.ADMIN | Role.DRIVER:
            return true()
        case Role.INSURER:
            return Product.insurer_id == user.insurer_id
        case _:
            return false()


def statement_visible(user: User) -> Condition:
    policies = select(Policy.id).where(policy_visible(user))
    return Statement.policy_id.in_(policies)


def get_visible[T](*, session: Session, model: type[T], object_id: int, visible: Condition, kind: str) -> T:
    """The row `object_id` of `model` if `visible` admits it, else `NotFoundError` (same for absent)."""
    pk = model.id  # type: ignore[attr-defined]
    row = session.scalar(select(model).where(pk == object_id, visible))
    if row is None:
        raise NotFoundError.of(kind, object_id)
    return row

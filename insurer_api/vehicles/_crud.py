"""Data access for vehicles and devices (keyword-only, never commits)."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from insurer_api.access import device_visible, get_visible, vehicle_visible
from insurer_api.errors import ApiError, ConflictError, InvalidRequestError, NotFoundError
from insurer_api.pagination import Page, Paged, by_id, paged
from insurer_api.vehicles._schemas import VehicleCreate
from models import Device, User, Vehicle
from scoring_service import devices

__all__ = ["create_vehicle", "get_vehicle", "list_devices", "list_vehicles", "register_device"]


def create_vehicle(*, session: Session, driver_id: int, data: VehicleCreate) -> Vehicle:
    if session.scalar(select(Vehicle.id).where(Vehicle.vin == data.vin)) is not None:
        raise ConflictError(f"vehicle {data.vin} is already enrolled")
    vehicle = Vehicle(driver_id=driver_id, vin=data.vin, make=data.make, model=data.model, year=data.year)
    session.add(vehicle)
    session.flush()
    return vehicle


def list_vehicles(*, session: Session, viewer: User, page: Page) -> Paged[Vehicle]:
    query = page.apply(select(Vehicle).where(vehicle_visible(viewer)), Vehicle.id)
    return paged(session.scalars(query).all(), page, by_id)


def get_vehicle(*, session: Session, viewer: User, vehicle_id: int) -> Vehicle:
    return get_visible(
        session=session, model=Vehicle, object_id=vehicle_id, visible=vehicle_visible(viewer), kind="vehicle"
    )


_REGISTRATION_ERRORS: dict[int, type[ApiError]] = {
    404: NotFoundError,
    409: ConflictError,
    422: InvalidRequestError,
}


def register_device(*, session: Session, vehicle: Vehicle, public_key: bytes) -> Device:
    """Bind a device key to `vehicle`; its NEO address becomes the device id batches are signed as.

    The device registry of the scoring service does the work (one rule for what a valid device
    key is); its refusals keep their status (422 bad key, 409 already registered).
    """
    try:
        return devices.register_device(session, vehicle_id=vehicle.id, public_key=public_key)
    except devices.DeviceRegistrationError as exc:
        mapped = _REGISTRATION_ERRORS.get(exc.status_code, InvalidRequestError)
        raise mapped(exc.message) from exc


def list_devices(*, session: Session, viewer: User, vehicle_id: int, page: Page) -> Paged[Device]:
    get_vehicle(session=session, viewer=viewer, vehicle_id=vehicle_id)
    query = page.apply(select(Device).where(Device.vehicle_id == vehicle_id, device_visible(viewer)), Device.id)
    return paged(session.scalars(query).all(), page, by_id)

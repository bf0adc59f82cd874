"""Data access for vehicles and devices (keyword-only, never commits)."""

from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import select
from sqlalchemy.orm import Session

from insurer_api.access import device_visible, get_visible, vehicle_visible
from insurer_api.errors import ConflictError, InvalidRequestError
from insurer_api.vehicles._schemas import VehicleCreate
from models import Device, User, Vehicle
from protocol import neo_address

__all__ = ["create_vehicle", "get_vehicle", "list_devices", "list_vehicles", "register_device"]


def create_vehicle(*, session: Session, driver_id: int, data: VehicleCreate) -> Vehicle:
    if session.scalar(select(Vehicle.id).where(Vehicle.vin == data.vin)) is not None:
        raise ConflictError(f"vehicle {data.vin} is already enrolled")
    vehicle = Vehicle(driver_id=driver_id, vin=data.vin, make=data.make, model=data.model, year=data.year)
    session.add(vehicle)
    session.flush()
    return vehicle


def list_vehicles(*, session: Session, viewer: User) -> list[Vehicle]:
    return list(session.scalars(select(Vehicle).where(vehicle_visible(viewer)).order_by(Vehicle.id)))


def get_vehicle(*, session: Session, viewer: User, vehicle_id: int) -> Vehicle:
    return get_visible(
        session=session, model=Vehicle, object_id=vehicle_id, visible=vehicle_visible(viewer), kind="vehicle"
    )


def register_device(*, session: Session, vehicle: Vehicle, public_key: bytes) -> Device:
    """Bind a device key to `vehicle`; its NEO address becomes the device id batches are signed as.

    The key must be a point on secp256r1: a key the server cannot verify with would make every
    upload from that device fail later, far from the mistake.
    """
    try:
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), public_key)
    except ValueError as exc:
        raise InvalidRequestError("public_key is not a compressed point on secp256r1") from exc
    address = neo_address(public_key)
    if session.scalar(select(Device.id).where(Device.neo_address == address)) is not None:
        raise ConflictError(f"device {address} is already registered")
    device = Device(vehicle_id=vehicle.id, neo_address=address, public_key=public_key, last_seq=0)
    session.add(device)
    session.flush()
    return device


def list_devices(*, session: Session, viewer: User, vehicle_id: int) -> list[Device]:
    get_vehicle(session=session, viewer=viewer, vehicle_id=vehicle_id)
    query = select(Device).where(Device.vehicle_id == vehicle_id, device_visible(viewer)).order_by(Device.id)
    return list(session.scalars(query))

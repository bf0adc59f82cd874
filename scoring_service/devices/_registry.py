"""The device registry: a device's secp256r1 public key becomes its identity (the key's NEO address),
and what the server has queued for it to apply."""

from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models import Device, Vehicle
from protocol import Configure, KeyFormatError, neo_address, signal_to_json
from scoring_service.devices._errors import DeviceExistsError, InvalidPublicKeyError, UnknownVehicleError

__all__ = ["register_device", "set_pending_config"]


def register_device(session: Session, *, vehicle_id: int, public_key: bytes) -> Device:
    """Fit a device with `public_key` (33-byte compressed secp256r1) to the vehicle `vehicle_id`.

    Flushes but does not commit: the caller owns the transaction (an API registering a vehicle
    and its device together commits once). If another request registered the same key between
    our check and our flush, the session is rolled back before `DeviceExistsError`.
    Raises `InvalidPublicKeyError`, `UnknownVehicleError` or `DeviceExistsError`.
    """
    try:
        address = neo_address(public_key)
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), public_key)
    except (KeyFormatError, ValueError) as exc:
        raise InvalidPublicKeyError(
            "public key must be a 33-byte compressed secp256r1 point", field="public_key"
        ) from exc
    if session.get(Vehicle, vehicle_id) is None:
        raise UnknownVehicleError(f"no vehicle with id {vehicle_id}", field="vehicle_id")
    if session.scalar(select(Device.id).where(Device.public_key == public_key)) is not None:
        raise DeviceExistsError(f"device {address} is registered already", field="public_key")
    device = Device(vehicle_id=vehicle_id, neo_address=address, public_key=public_key)
    session.add(device)
    try:
        session.flush()
    except IntegrityError as exc:  # registered concurrently between the check and the insert
        session.rollback()
        raise DeviceExistsError(f"device {address} is registered already", field="public_key") from exc
    return device


def set_pending_config(session: Session, *, device: Device, configure: Configure) -> None:
    """Queue `configure` for `device`: every Ack carries it until a batch reports its `config_id`.

    A newer Configure replaces one not yet applied. Does not commit.
    """
    device.pending_config = signal_to_json(configure)
    session.flush()

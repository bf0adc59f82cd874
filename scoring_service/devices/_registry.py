"""The device registry: a device's secp256r1 public key becomes its identity (the key's NEO address),
and what the server has queued for it to apply."""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models import Device, DeviceStatusReport, Vehicle
from protocol import Configure, KeyFormatError, MalformedError, neo_address, signal_from_json, signal_to_json
from scoring_service.devices._errors import (
    DeviceExistsError,
    InvalidConfigureError,
    InvalidPublicKeyError,
    UnknownVehicleError,
)

__all__ = [
    "pending_configure",
    "queue_configure",
    "queue_status_query",
    "register_device",
    "set_pending_config",
]


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


def pending_configure(stored: dict[str, Any] | None) -> Configure | None:
    """The Configure kept in `Device.pending_config` (its signal JSON), if any."""
    if stored is None:
        return None
    signal = signal_from_json(stored)
    if not isinstance(signal, Configure):
        raise ValueError(f"devices.pending_config holds a {type(signal).__name__}, not a Configure")
    return signal


def queue_configure(
    session: Session, *, device_id: int, sample_rate_hz: int, pids: Sequence[str], upload_interval_s: int
) -> Configure:
    """Queue new settings for a device under the next `config_id`; the device applies them after its
    next upload and acknowledges them in a StatusReport. Does not commit.

    The id is one past any the device has been sent or has reported, decided under the device
    row's lock, so two operators configuring at once never send two settings under one id.
    Raises `InvalidConfigureError` for settings the protocol does not allow.
    """
    device = session.scalars(select(Device).where(Device.id == device_id).with_for_update()).one()
    pending = pending_configure(device.pending_config)
    reported = session.scalar(
        select(func.max(DeviceStatusReport.config_id)).where(DeviceStatusReport.device_id == device_id)
    )
    config_id = max(pending.config_id if pending else 0, reported or 0) + 1
    try:
        configure = Configure(
            config_id=config_id, sample_rate_hz=sample_rate_hz, pids=tuple(pids), upload_interval_s=upload_interval_s
        )
    except MalformedError as exc:
        raise InvalidConfigureError(str(exc)) from exc
    set_pending_config(session, device=device, configure=configure)
    return configure


def queue_status_query(session: Session, *, device_id: int, now: datetime) -> None:
    """Ask the device for a StatusReport in its next upload (every Ack carries the query until one
    arrives). Does not commit."""
    session.execute(update(Device).where(Device.id == device_id).values(status_query_at=now))

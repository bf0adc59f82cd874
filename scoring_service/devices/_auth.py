"""One authentication for everything a device sends: the message must be signed by the key we
registered for the address it names.

A message may carry its key too (a batch does), but a key in the message proves nothing: only the
registered key counts, and a message whose key differs from it is refused before the signature is
even checked. An unknown address is told 403 rather than a confusing 401.
"""

from dataclasses import dataclass

from sqlalchemy import Connection, bindparam, select

from models import Device
from protocol import verify_signature
from scoring_service.devices._errors import BadSignatureError, UnknownDeviceError

__all__ = ["AuthenticatedDevice", "DeviceSignature", "authenticate_device"]


@dataclass(frozen=True, slots=True)
class DeviceSignature:
    """What a device signed, and the names of the request fields that hold each part (for the
    error message that tells the device what is wrong)."""

    address: str
    message: bytes
    signature: bytes
    public_key: bytes | None = None  # the key the message claims, when it carries one
    address_field: str = "device"
    signature_field: str = "signature"
    key_field: str = "public_key"


@dataclass(frozen=True, slots=True)
class AuthenticatedDevice:
    """A registered device whose signature verified."""

    id: int
    address: str
    vehicle_id: int


# Built once: ingestion authenticates every batch, and building the statement costs more than running it.
_DEVICE = select(Device.id, Device.public_key, Device.vehicle_id).where(Device.neo_address == bindparam("address"))


def authenticate_device(conn: Connection, signed: DeviceSignature) -> AuthenticatedDevice:
    """The registered device that signed `signed`; raises `UnknownDeviceError` or `BadSignatureError`."""
    row = conn.execute(_DEVICE, {"address": signed.address}).one_or_none()
    if row is None:
        raise UnknownDeviceError(f"device {signed.address} is not registered", field=signed.address_field)
    if signed.public_key is not None and signed.public_key != row.public_key:
        raise BadSignatureError(f"{signed.key_field} is not the key registered for this device", field=signed.key_field)
    if not verify_signature(row.public_key, signed.signature, signed.message):
        raise BadSignatureError(
            "signature does not verify with the device's registered key", field=signed.signature_field
        )
    return AuthenticatedDevice(id=row.id, address=signed.address, vehicle_id=row.vehicle_id)

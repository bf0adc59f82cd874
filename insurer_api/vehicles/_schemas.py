"""Bodies for vehicles and their devices, apart from the ORM rows."""

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from insurer_api.schemas import Name, Vin

__all__ = ["DevicePublic", "DeviceRegister", "VehicleCreate", "VehiclePublic"]


class VehicleCreate(BaseModel):
    vin: Vin
    make: Name | None = None
    model: Name | None = None
    year: int | None = Field(default=None, ge=1886, le=2100)


class VehiclePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    driver_id: int
    vin: str
    make: str | None
    model: str | None
    year: int | None
    created_at: datetime


class DeviceRegister(BaseModel):
    """The device public key as printed by `neot agent keygen` (33-byte compressed secp256r1, hex)."""

    public_key: Annotated[
        str, StringConstraints(strip_whitespace=True, to_lower=True, pattern=r"^0[23][0-9a-fA-F]{64}$")
    ] = Field(description="66 hex digits starting 02 or 03")


class DevicePublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    vehicle_id: int
    neo_address: str
    public_key: str
    last_seq: int
    created_at: datetime

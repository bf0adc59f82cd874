"""Bodies for product definitions, insurers' product offerings and policies."""

from datetime import date, datetime
from typing import Annotated, Self

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from insurer_api.schemas import MAX_ID, Email, Name, Vin
from models import PolicyStatus

__all__ = [
    "DefinitionPublic",
    "PolicyCreate",
    "PolicyPublic",
    "ProductCreate",
    "ProductPublic",
]

MAX_POLICY_DAYS = 3 * 366


class DefinitionPublic(BaseModel):
    """A shipped product definition and the pricing rule its statements follow."""

    id: str
    version: int
    name: str
    base_premium: int = Field(description="NEOT base units a month before the risk factor")
    floor: int = Field(description="Lowest monthly premium, NEOT base units")
    cap: int = Field(description="Highest monthly premium, NEOT base units")


class ProductCreate(BaseModel):
    """Offer one version of a shipped product definition."""

    definition_id: Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]
    definition_version: int = Field(ge=1, le=1_000_000)
    name: Name | None = Field(default=None, description="Marketing name; the definition's name if left out")


class ProductPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    insurer_id: int
    definition_id: str
    definition_version: int
    name: str
    created_at: datetime


class PolicyCreate(BaseModel):
    """A quote for one driver's vehicle; the driver accepts it to make it active.

    The driver is named by e-mail and the vehicle by VIN, both of which the driver gives the
    insurer: ids of rows the insurer cannot see yet are never needed.
    """

    product_id: int = Field(ge=1, le=MAX_ID, description="One of your products")
    driver_email: Email
    vin: Vin
    period_start: date
    period_end: date = Field(description="Exclusive: cover ends at the start of this day (UTC)")

    @model_validator(mode="after")
    def _period(self) -> Self:
        days = (self.period_end - self.period_start).days
        if not 0 < days <= MAX_POLICY_DAYS:
            raise ValueError(f"period_end must be 1 to {MAX_POLICY_DAYS} days after period_start")
        return self


class PolicyPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    insurer_id: int
    driver_id: int
    vehicle_id: int
    product_id: str = Field(description="Product definition id")
    product_version: int
    period_start: date
    period_end: date
    base_premium: int
    status: PolicyStatus
    created_at: datetime

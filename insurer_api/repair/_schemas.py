"""Request and response bodies of the repair endpoints, apart from the ORM rows."""

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from insurer_api.schemas import MAX_ID, Email, Name, NeoAddress, Password
from models import JobState

__all__ = [
    "ExplanationPublic",
    "FailBody",
    "InvoiceBody",
    "JobCreate",
    "JobPublic",
    "ShopPublic",
    "ShopSignup",
    "ShopUpdate",
    "TrackRecordPublic",
]

type Service = Annotated[str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9:_-]{0,62}\*?$", max_length=64)]
type Positive = Annotated[int, Field(gt=0, le=MAX_ID, description="NEOT base units (10^-8 NEOT)")]


class ShopSignup(BaseModel):
    """A repair shop joining: its public offer, and the account it signs in with."""

    name: Name
    neo_address: NeoAddress = Field(description="The shop's NEO N3 account: where payouts go")
    services: list[Service] = Field(
        min_length=1, max_length=50, description="Service names or prefix patterns ending in `*` (`dtc:P03*`, `body`)"
    )
    capacity: int = Field(ge=1, le=10_000, description="Jobs the shop takes at once")
    username: Email
    password: Password


class ShopUpdate(BaseModel):
    """A shop changes its offer; what is left out stays."""

    services: list[Service] | None = Field(default=None, min_length=1, max_length=50)
    capacity: int | None = Field(default=None, ge=1, le=10_000)


class ShopPublic(BaseModel):
    """Everything Negotiation reads about a shop, besides its on-chain record."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    neo_address: str
    services: list[str]
    capacity: int
    open_jobs: int


class TrackRecordPublic(BaseModel):
    """A shop's record rebuilt from the escrow contract's events."""

    neo_address: str
    jobs: int
    successes: int
    smoothed_rate: str = Field(description="(successes + 1) / (jobs + 2), as an exact fraction")
    senior: bool = Field(description="≥ 20 jobs and ≥ 90 % success: paid 95 % of its invoices, else 90 %")
    chain_height: int


class JobCreate(BaseModel):
    """An insurer's claim: what to repair under which policy, and how much it authorises."""

    policy_id: int = Field(ge=1, le=MAX_ID)
    service: Service
    authorised_amount: Positive


class InvoiceBody(BaseModel):
    amount: Positive


class FailBody(BaseModel):
    reason: Annotated[str, StringConstraints(min_length=1, max_length=300, pattern=r"^[^\x00-\x1f\x7f]*$")]


class JobPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    policy_id: int
    shop_id: int | None
    service: str
    dtc: str | None
    state: JobState
    opened_by: str
    authorised_amount: int
    invoice_amount: int | None
    shop_amount: int | None
    royalty_amount: int | None
    chain_job_id: str
    outcome_reason: str | None
    created_at: datetime
    updated_at: datetime


class ExplanationPublic(BaseModel):
    """Negotiation recomputed from the job's stored public inputs."""

    job_id: int
    winner: str | None
    reproduced: bool
    reason: str
    negotiation: dict[str, Any]

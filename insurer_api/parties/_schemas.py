"""Bodies for insurers, drivers and user accounts, apart from the ORM rows."""

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from insurer_api.schemas import MAX_ID, Email, Name, NeoAddress, Password
from models import Role

__all__ = ["DriverPublic", "DriverSignup", "InsurerCreate", "InsurerPublic", "UserCreate"]


class InsurerCreate(BaseModel):
    """A new insurer and its first operator account."""

    name: Name
    neo_address: NeoAddress = Field(description="The insurer's NEO N3 account (receives premiums)")
    username: Email = Field(description="Sign-in name of the insurer's first operator")
    password: Password


class InsurerPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    neo_address: str
    created_at: datetime


class DriverSignup(BaseModel):
    """A driver opening an account; the e-mail address is the sign-in name."""

    name: Name
    email: Email
    password: Password
    neo_address: NeoAddress | None = Field(default=None, description="Account that funds premium deposits")


class DriverPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    email: str
    neo_address: str | None
    created_at: datetime


class UserCreate(BaseModel):
    """An extra account for an existing party (e.g. a repair shop's login, a second insurer operator).

    `party_id` names the driver, insurer or repair shop row the role acts for; admins have none.
    """

    username: Email
    password: Password
    role: Role
    party_id: int | None = Field(default=None, ge=1, le=MAX_ID)

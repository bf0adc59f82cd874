"""Request and response bodies of the auth endpoints, apart from the ORM rows."""

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from insurer_api.schemas import Name
from models import Role

__all__ = ["ApiKeyCreate", "ApiKeyCreated", "ApiKeyPublic", "Token", "UserPublic"]


class Token(BaseModel):
    """The OAuth2 password-flow answer."""

    access_token: str
    token_type: str = "bearer"
    expires_at: datetime


class UserPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    username: str
    role: Role
    driver_id: int | None
    insurer_id: int | None
    shop_id: int | None
    is_active: bool
    created_at: datetime


class ApiKeyCreate(BaseModel):
    name: Name = Field(description="What the key is for, e.g. `statement batch job`")


class ApiKeyPublic(BaseModel):
    """A key as listed: its public prefix, never its secret."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str
    prefix: str
    created_at: datetime
    revoked_at: datetime | None


class ApiKeyCreated(ApiKeyPublic):
    """Returned once, at creation: `key` is the only copy of the secret anywhere."""

    key: str

"""Who may sign in: user accounts with a role, tied to the party they act for, and machine API keys."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from models._base import Base, str_enum, utcnow

__all__ = ["ApiKey", "CredentialRevocation", "Role", "User"]


class Role(StrEnum):
    """What a user is: it decides which endpoints they reach and which rows they see."""

    DRIVER = "driver"
    INSURER = "insurer"
    REPAIR_SHOP = "repair_shop"
    ADMIN = "admin"


class User(Base):
    """A person or machine that signs in. A non-admin user acts for exactly one party row.

    The check constraint keeps the role and the party link consistent, so object-level
    authorisation can trust `driver_id` / `insurer_id` / `shop_id` without re-checking the role.
    """

    __tablename__ = "users"
    __table_args__ = (
        CheckConstraint(
            "(role = 'driver' AND driver_id IS NOT NULL AND insurer_id IS NULL AND shop_id IS NULL)"
            " OR (role = 'insurer' AND insurer_id IS NOT NULL AND driver_id IS NULL AND shop_id IS NULL)"
            " OR (role = 'repair_shop' AND shop_id IS NOT NULL AND driver_id IS NULL AND insurer_id IS NULL)"
            " OR (role = 'admin' AND driver_id IS NULL AND insurer_id IS NULL AND shop_id IS NULL)",
            name="role_matches_party",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(320), unique=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[Role] = mapped_column(str_enum(Role))
    driver_id: Mapped[int | None] = mapped_column(ForeignKey("drivers.id"), index=True)
    insurer_id: Mapped[int | None] = mapped_column(ForeignKey("insurers.id"), index=True)
    shop_id: Mapped[int | None] = mapped_column(ForeignKey("repair_shops.id"), index=True)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ApiKey(Base):
    """A long-lived bearer credential for a machine acting as a user.

    Only a SHA-256 of the secret is stored (the secret has 256 bits of entropy, so a slow hash
    adds nothing); `prefix` is the public, indexed part used to find the row.
    """

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    secret_sha256: Mapped[bytes] = mapped_column(LargeBinary(32))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]


class CredentialRevocation(Base):
    """Every access token of `user_id` issued at or before `revoked_at` is void.

    Access tokens are checked without a query: API processes poll this small table (the rows of
    one token lifetime) and refuse the tokens it voids. Written in the transaction that disables
    an account, so a disabled user is refused by every process within one poll.
    """

    __tablename__ = "credential_revocations"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    revoked_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

"""Responses remembered per `Idempotency-Key`, so a retried money-moving POST is answered, not redone."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from models._base import Base, str_enum, utcnow

__all__ = ["IdempotentRequest", "RequestState"]


class RequestState(StrEnum):
    """`running` while the first request works; `done` once its response is stored."""

    RUNNING = "running"
    DONE = "done"


class IdempotentRequest(Base):
    """One (principal, key) pair: the request's fingerprint and, once done, the response it got."""

    __tablename__ = "idempotent_requests"
    __table_args__ = (UniqueConstraint("principal", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    principal: Mapped[str] = mapped_column(String(100))
    key: Mapped[str] = mapped_column(String(200))
    request_sha256: Mapped[bytes] = mapped_column(LargeBinary(32))
    state: Mapped[RequestState] = mapped_column(str_enum(RequestState), default=RequestState.RUNNING)
    status_code: Mapped[int | None]
    response: Mapped[dict[str, object] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

"""What insurers sell and what they bill: product offerings and monthly premium statements."""

from datetime import date, datetime

from sqlalchemy import ForeignKey, LargeBinary, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from models._base import Base, utcnow
from models._policies import Policy

__all__ = ["Product", "Statement", "StatementScore"]


class Product(Base):
    """An insurer offering one version of a product definition (the TOML file is the source of truth)."""

    __tablename__ = "products"
    __table_args__ = (UniqueConstraint("insurer_id", "definition_id", "definition_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    insurer_id: Mapped[int] = mapped_column(ForeignKey("insurers.id"), index=True)
    definition_id: Mapped[str] = mapped_column(String(64))
    definition_version: Mapped[int]
    name: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Statement(Base):
    """One month's premium for one policy, frozen at issue: every input that priced it is recorded.

    `statement_sha256` is the hash of the canonical statement document; it goes on chain with the
    charge so anyone holding the statement can check what was billed.
    """

    __tablename__ = "statements"
    __table_args__ = (UniqueConstraint("policy_id", "period_start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    policy_id: Mapped[int] = mapped_column(ForeignKey("policies.id"), index=True)
    period_start: Mapped[date]
    period_end: Mapped[date]
    distance_m: Mapped[int]
    trip_count: Mapped[int]
    driver_score: Mapped[int | None]
    # exact decimal text (e.g. "1.0375"): the factor is part of the hashed statement, never a float
    risk_factor: Mapped[str] = mapped_column(String(32))
    model_version: Mapped[int]
    model_sha256: Mapped[str] = mapped_column(String(64))
    base_premium: Mapped[int]
    premium: Mapped[int]
    statement_sha256: Mapped[bytes] = mapped_column(LargeBinary(32))
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id"), index=True)
    issued_at: Mapped[datetime] = mapped_column(default=utcnow)

    # loaded with the statement (one query): every view of a statement shows its policy's product
    policy: Mapped["Policy"] = relationship(lazy="joined", innerjoin=True)
    scores: Mapped[list["StatementScore"]] = relationship(
        back_populates="statement", cascade="all, delete-orphan", order_by="StatementScore.trip_score_id"
    )


class StatementScore(Base):
    """A trip score a statement used, so the premium can be traced to anchored scores."""

    __tablename__ = "statement_scores"
    __table_args__ = (UniqueConstraint("statement_id", "trip_score_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    statement_id: Mapped[int] = mapped_column(ForeignKey("statements.id"), index=True)
    trip_score_id: Mapped[int] = mapped_column(ForeignKey("trip_scores.id"), index=True)

    statement: Mapped[Statement] = relationship(back_populates="scores")

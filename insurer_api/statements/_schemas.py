"""Bodies for monthly statements."""

from datetime import date, datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field, StringConstraints

from models import PaymentState

__all__ = ["PaymentRef", "StatementIssue", "StatementPublic", "StatementScoreRef"]


class StatementIssue(BaseModel):
    period: Annotated[str, StringConstraints(pattern=r"^20[0-9]{2}-(0[1-9]|1[0-2])$")] = Field(
        description="The calendar month to bill, `YYYY-MM` (UTC); it must have ended", examples=["2026-10"]
    )


class StatementScoreRef(BaseModel):
    """A trip score the premium used, with its anchoring proof once it is committed."""

    score_id: int
    trip_id: int
    score: int
    proof: dict[str, Any] | None = Field(description="Proof document (pending until anchored), or null if uncommitted")


class PaymentRef(BaseModel):
    id: int
    state: PaymentState
    tx_hash: str | None
    block: int | None


class StatementPublic(BaseModel):
    id: int
    policy_id: int
    period: str = Field(description="`YYYY-MM`")
    window_start: date
    window_end: date = Field(description="Exclusive")
    distance_m: int
    trip_count: int
    driver_score: int | None = Field(description="0-100 over the month's trips; null without trips")
    product_id: str
    product_version: int
    risk_factor: str = Field(description="Exact decimal from the risk model")
    model_version: int
    model_sha256: str
    base_premium: int = Field(description="NEOT base units")
    premium: int = Field(description="NEOT base units: base_premium x risk_factor within the product's floor and cap")
    statement_sha256: str = Field(description="SHA-256 of the canonical statement document, hex; sent on chain")
    issued_at: datetime
    scores: list[StatementScoreRef]
    payment: PaymentRef | None
    charge_error: str | None = Field(default=None, description="Why the statement is not (yet) charged")

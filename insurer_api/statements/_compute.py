"""A monthly statement from stored trips: the pure arithmetic, separate from HTTP and charging.

The month's window is the calendar month (UTC) cut to the policy's period. What goes in:

- the trips of the policy's vehicle that *ended* in the window (the scoring service's rule for
  `driver_totals`, so a trip crossing midnight on the 1st belongs to exactly one month; a driver
  with two insured cars is billed each car's own driving);
- their totals, added up by the scoring service's own rule, give the distance, the driver score
  (`score_totals` under the policy's product) and the rating features (`features_from_totals`);
- the risk model prices the month: `premium = clamp(base_premium * factor, floor, cap)` with the
  product's pricing (`price_driver`), the factor recorded as exact decimal text with the model's
  version and SHA-256;
- the trip scores used are those of the same trips under the policy's product version.

The statement document is canonical JSON (integers and strings only); its SHA-256 goes on chain
with the charge, so anyone holding the document can check what was billed.
"""

import hashlib
from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from models import Device, Policy, Trip, TripEvent, TripScore
from protocol import RecordType, canonical_json, ns_from_datetime
from scoring_service.products import Product as Definition
from scoring_service.risk import Premium, RiskModel, features_from_totals, price_driver
from scoring_service.scoring import TripTotals, score_totals
from scoring_service.scoring import totals_of as trip_totals

__all__ = ["FORMAT", "StatementDraft", "compute_statement", "document_sha256", "month_window", "statement_document"]

FORMAT = "neot-statement/1"


@dataclass(frozen=True, slots=True)
class StatementDraft:
    """Everything a statement records, before it is stored."""

    policy_id: int
    month: date
    window_start: date
    window_end: date
    totals: TripTotals
    trip_count: int
    driver_score: int | None
    premium: Premium
    trip_score_ids: tuple[int, ...]


def month_window(policy: Policy, month: date) -> tuple[date, date] | None:
    """[start, end) of `month` within the policy's period, or None when the policy does not cover it."""
    first = month.replace(day=1)
    after = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    start, end = max(first, policy.period_start), min(after, policy.period_end)
    return (start, end) if start < end else None


def _instant(day: date) -> datetime:
    return datetime.combine(day, time(), UTC)


def _ns(day: date) -> int:
    return ns_from_datetime(_instant(day))


def compute_statement(
    *, session: Session, policy: Policy, month: date, window: tuple[date, date], product: Definition, model: RiskModel
) -> StatementDraft:
    """Price `policy` for `month` (already checked to be covered: `window`)."""
    start, end = window
    trips = (
        select(Trip.id)
        .join(Device, Device.id == Trip.device_id)
        .where(Device.vehicle_id == policy.vehicle_id, Trip.end_ns >= _ns(start), Trip.end_ns < _ns(end))
    )
    trip_rows = session.scalars(select(Trip).where(Trip.id.in_(trips)).order_by(Trip.id)).all()
    events = session.scalars(select(TripEvent).where(TripEvent.trip_id.in_(trips))).all()
    totals = trip_totals(trip_rows, events)
    trip_count = len(trip_rows)
    score_ids = session.scalars(
        select(TripScore.id)
        .where(
            TripScore.trip_id.in_(trips),
            TripScore.product_id == policy.product_id,
            TripScore.product_version == policy.product_version,
        )
        .order_by(TripScore.id)
    ).all()
    features = features_from_totals(totals, max((end - start).days, 1))
    return StatementDraft(
        policy_id=policy.id,
        month=month.replace(day=1),
        window_start=start,
        window_end=end,
        totals=totals,
        trip_count=trip_count,
        driver_score=score_totals(totals, product).score if trip_count else None,
        premium=price_driver(product, model, features),
        trip_score_ids=tuple(score_ids),
    )


def statement_document(draft: StatementDraft, *, insurer_address: str) -> dict[str, Any]:
    """The canonical statement record (also the anchoring record of type `premium_statement`)."""
    p = draft.premium
    return {
        "type": str(RecordType.PREMIUM_STATEMENT),
        "format": FORMAT,
        "insurer": insurer_address,
        "policy_id": draft.policy_id,
        "period": f"{draft.month:%Y-%m}",
        "window_start": draft.window_start.isoformat(),
        "window_end": draft.window_end.isoformat(),
        "distance_m": draft.totals.distance_m,
        "trip_count": draft.trip_count,
        "driver_score": draft.driver_score,
        "product_id": p.product_id,
        "product_version": p.product_version,
        "model_version": p.model_version,
        "model_sha256": p.model_sha256,
        "risk_factor": str(p.factor),
        "base_premium": p.base_premium,
        "premium": p.amount,
        "trip_score_ids": list(draft.trip_score_ids),
    }


def driver_score_document(draft: StatementDraft, *, driver_id: int) -> dict[str, Any] | None:
    """The month's driver score as its own anchoring record (`driver_score`), or None for a month
    without trips. It names the trip scores it summarises, so each can be proved alongside."""
    if draft.driver_score is None:
        return None
    return {
        "type": str(RecordType.DRIVER_SCORE),
        "format": FORMAT,
        "driver_id": driver_id,
        "policy_id": draft.policy_id,
        "period": f"{draft.month:%Y-%m}",
        "score": draft.driver_score,
        "product_id": draft.premium.product_id,
        "product_version": draft.premium.product_version,
        "trip_score_ids": list(draft.trip_score_ids),
    }


def document_sha256(document: dict[str, Any]) -> bytes:
    return hashlib.sha256(canonical_json(document)).digest()

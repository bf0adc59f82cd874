"""Scores 0-100 with readable reasons, and their canonical bytes.

A score is computed from integer totals (metres, milliseconds, counts) with exact decimal
arithmetic and the product's weights, so the same samples and product version give the same
bytes on any machine. Each kind of behaviour takes off at most its cap:

    penalty = min(cap, round_half_even(rate * weight))

with rate = events per 100 km, or percent of driving time speeding / at night.
"""

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

from models import EventKind
from protocol import canonical_json
from scoring_service.products import Product
from scoring_service.scoring._analyse import TripAnalysis, TripTotals

__all__ = ["RECORD_VERSION", "Reason", "Score", "score_totals", "trip_record"]

#: Version of the trip score record layout (bump if a field changes meaning).
RECORD_VERSION = 1

_NOUNS = {
    EventKind.HARSH_BRAKE: ("harsh brake", "harsh brakes"),
    EventKind.HARSH_ACCEL: ("harsh acceleration", "harsh accelerations"),
    EventKind.HARSH_CORNER: ("harsh corner", "harsh corners"),
}


@dataclass(frozen=True, slots=True)
class Reason:
    """One line of explanation, e.g. `4.0 harsh brakes per 100 km: \u221212` (a real minus sign)."""

    kind: str
    rate: str  # decimal string, one place: events per 100 km, or percent of driving time
    penalty: int
    text: str

    def as_json(self) -> dict[str, object]:
        return {"kind": self.kind, "rate": self.rate, "penalty": self.penalty, "text": self.text}


@dataclass(frozen=True, slots=True)
class Score:
    """A 0-100 score and the reasons for every point taken off, largest first."""

    score: int
    reasons: tuple[Reason, ...]


def _points(rate: Decimal, weight: Decimal, cap: int) -> int:
    return min(cap, int((rate * weight).to_integral_value(rounding=ROUND_HALF_EVEN)))


def _one_place(value: Decimal) -> str:
    return str(value.quantize(Decimal("0.1"), rounding=ROUND_HALF_EVEN))


def score_totals(totals: TripTotals, product: Product) -> Score:
    """Score a trip's or a driver's totals under a product."""
    w = product.weights
    reasons: list[Reason] = []
    if totals.distance_m > 0:
        per_kind = (
            (EventKind.HARSH_BRAKE, w.harsh_brake_per_100km, w.harsh_brake_cap),
            (EventKind.HARSH_ACCEL, w.harsh_accel_per_100km, w.harsh_accel_cap),
            (EventKind.HARSH_CORNER, w.harsh_corner_per_100km, w.harsh_corner_cap),
        )
        for kind, weight, cap in per_kind:
            count = totals.count(kind)
            if count == 0:
                continue
            rate = Decimal(count * 100_000) / Decimal(totals.distance_m)
            penalty = _points(rate, weight, cap)
            noun = _NOUNS[kind][0 if _one_place(rate) == "1.0" else 1]
            reasons.append(Reason(kind.value, _one_place(rate), penalty, f"{_one_place(rate)} {noun} per 100 km"))
    if totals.duration_ms > 0:
        shares = (
            (EventKind.SPEEDING.value, totals.speeding_ms, w.speeding_per_pct, w.speeding_cap, "speeding"),
            ("night", totals.night_ms, w.night_per_pct, w.night_cap, "at night (local time)"),
        )
        for kind_name, ms, weight, cap, what in shares:
            if ms == 0:
                continue
            pct = Decimal(ms * 100) / Decimal(totals.duration_ms)
            penalty = _points(pct, weight, cap)
            reasons.append(Reason(kind_name, _one_place(pct), penalty, f"{_one_place(pct)} % of driving time {what}"))
    reasons = [Reason(r.kind, r.rate, r.penalty, f"{r.text}: \u2212{r.penalty}") for r in reasons if r.penalty > 0]
    reasons.sort(key=lambda r: (-r.penalty, r.kind))
    return Score(max(0, 100 - sum(r.penalty for r in reasons)), tuple(reasons))


def trip_record(trip: TripAnalysis, score: Score, product: Product) -> bytes:
    """The canonical bytes of a trip's score: what is stored, hashed into a Merkle leaf and
    anchored. Only integers and strings; events are counted per kind in registry order."""
    totals = trip.totals()
    record = {
        "type": "trip_score",
        "record_version": RECORD_VERSION,
        "product_id": product.id,
        "product_version": product.version,
        "start_ns": trip.start_ns,
        "end_ns": trip.end_ns,
        "distance_m": totals.distance_m,
        "duration_ms": totals.duration_ms,
        "idle_ms": totals.idle_ms,
        "night_ms": totals.night_ms,
        "speeding_ms": totals.speeding_ms,
        "events": {kind.value: totals.count(kind) for kind in EventKind},
        "score": score.score,
        "reasons": [r.as_json() for r in score.reasons],
    }
    return canonical_json(record)

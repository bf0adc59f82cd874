"""Per-driver rating features, computed from the same integer totals the driver score uses."""

import math
from dataclasses import astuple, dataclass, fields

from scoring_service.scoring import TripTotals

__all__ = ["FEATURE_NAMES", "DriverFeatures", "features_from_totals"]

#: Mileage below this is rated as this: a car barely driven in the window is not risk-free.
MIN_ANNUAL_KM = 1000.0
REFERENCE_ANNUAL_KM = 10_000.0


@dataclass(frozen=True, slots=True)
class DriverFeatures:
    """What the claim-frequency model rates. Rates are per 100 km; shares are fractions (0-1) of
    driving time; mileage enters as log(annual km / 10,000), so its coefficient is an elasticity
    (claims grow with distance, but less than in proportion)."""

    harsh_brakes_per_100km: float
    harsh_accels_per_100km: float
    harsh_corners_per_100km: float
    speeding_share: float
    night_share: float
    log_annual_km: float

    def as_row(self) -> list[float]:
        return list(astuple(self))


FEATURE_NAMES: tuple[str, ...] = tuple(f.name for f in fields(DriverFeatures))


def features_from_totals(totals: TripTotals, window_days: float) -> DriverFeatures:
    """Features of a driver from their totals over `window_days` of observation."""
    km = totals.distance_m / 1000
    per_100km = 100 / km if km > 0 else 0.0
    duration = totals.duration_ms
    annual_km = max(km * 365.25 / window_days, MIN_ANNUAL_KM)
    return DriverFeatures(
        harsh_brakes_per_100km=totals.harsh_brakes * per_100km,
        harsh_accels_per_100km=totals.harsh_accels * per_100km,
        harsh_corners_per_100km=totals.harsh_corners * per_100km,
        speeding_share=totals.speeding_ms / duration if duration else 0.0,
        night_share=totals.night_ms / duration if duration else 0.0,
        log_annual_km=math.log(annual_km / REFERENCE_ANNUAL_KM),
    )

"""Product definitions: typed rows loaded from versioned TOML files in this folder.

A product is identified by `(id, version)`. Scores and premiums record both, so a published file
is never edited; a change is a new version. Weights are decimals (exact arithmetic keeps scores
byte-identical everywhere); thresholds are floats in the units their names carry.
"""

import tomllib
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from scoring_service.errors import ProductError

__all__ = [
    "DetectorThresholds",
    "Detectors",
    "NightWindow",
    "Pricing",
    "Product",
    "SpeedingThresholds",
    "TripThresholds",
    "Weights",
    "available_products",
    "load_product",
    "load_product_file",
]

PRODUCTS_DIR = Path(__file__).parent


class _Row(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class TripThresholds(_Row):
    """How samples become trips (Traccar-style)."""

    stop_gap_s: float = Field(gt=0)
    min_distance_m: float = Field(ge=0)
    min_duration_s: float = Field(ge=0)
    stop_speed_kmh: float = Field(ge=0)
    max_plausible_speed_kmh: float = Field(gt=0)
    max_sample_gap_s: float = Field(gt=0)
    #: smoothing window used at least when speed or heading is derived from positions alone
    position_smoothing_s: float = Field(ge=0)


class DetectorThresholds(_Row):
    """A sustained-acceleration detector: |accel| above `threshold_ms2` for `min_duration_s`,
    at or above `min_speed_kmh`, after a centred moving average over `smoothing_s`."""

    threshold_ms2: float = Field(gt=0)
    min_duration_s: float = Field(ge=0)
    min_speed_kmh: float = Field(ge=0)
    smoothing_s: float = Field(ge=0)


class SpeedingThresholds(_Row):
    """Over the limit by more than `max(tolerance_kmh, limit * tolerance_pct / 100)` for
    `min_duration_s`."""

    tolerance_kmh: float = Field(ge=0)
    tolerance_pct: float = Field(ge=0)
    min_duration_s: float = Field(ge=0)


class NightWindow(_Row):
    """Local hours counted as night: `start_hour <= hour < end_hour` (wrapping past midnight)."""

    start_hour: int = Field(ge=0, le=23)
    end_hour: int = Field(ge=0, le=24)


class Detectors(_Row):
    """The thresholds of every detector, by detector name."""

    harsh_brake: DetectorThresholds
    harsh_accel: DetectorThresholds
    harsh_corner: DetectorThresholds
    speeding: SpeedingThresholds
    night: NightWindow


class Weights(_Row):
    """Score points taken off 100: per event per 100 km, per percent of time; each kind capped."""

    harsh_brake_per_100km: Decimal = Field(ge=0)
    harsh_brake_cap: int = Field(ge=0, le=100)
    harsh_accel_per_100km: Decimal = Field(ge=0)
    harsh_accel_cap: int = Field(ge=0, le=100)
    harsh_corner_per_100km: Decimal = Field(ge=0)
    harsh_corner_cap: int = Field(ge=0, le=100)
    speeding_per_pct: Decimal = Field(ge=0)
    speeding_cap: int = Field(ge=0, le=100)
    night_per_pct: Decimal = Field(ge=0)
    night_cap: int = Field(ge=0, le=100)
    driver_window_days: int = Field(gt=0)


class Pricing(_Row):
    """Monthly premium in NEOT base units: `base_premium * risk factor`, clamped to [floor, cap]."""

    base_premium: int = Field(gt=0)
    floor: int = Field(ge=0)
    cap: int = Field(gt=0)

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if not self.floor <= self.base_premium <= self.cap:
            raise ValueError("pricing needs floor <= base_premium <= cap")
        return self


class Product(_Row):
    """One insurance product version: trip rules, detector thresholds, score weights, pricing."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")
    version: int = Field(ge=1)
    name: str
    trips: TripThresholds
    detectors: Detectors
    weights: Weights
    pricing: Pricing


def load_product_file(path: Path) -> Product:
    """Read and validate one product TOML file."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ProductError(f"cannot read product file {path}: {exc}") from exc
    try:
        return Product.model_validate(data)
    except ValidationError as exc:
        raise ProductError(f"invalid product file {path}: {exc}") from exc


def available_products() -> dict[tuple[str, int], Path]:
    """The product files shipped in this folder, keyed by `(id, version)` from their contents."""
    found: dict[tuple[str, int], Path] = {}
    for path in sorted(PRODUCTS_DIR.glob("*.toml")):
        product = load_product_file(path)
        found[(product.id, product.version)] = path
    return found


@cache
def load_product(product_id: str = "standard", version: int | None = None) -> Product:
    """A shipped product by id, at `version` or else its newest version."""
    versions = {v: p for (pid, v), p in available_products().items() if pid == product_id}
    if not versions:
        raise ProductError(f"unknown product {product_id!r}")
    chosen = max(versions) if version is None else version
    if chosen not in versions:
        raise ProductError(f"product {product_id!r} has no version {chosen} (has {sorted(versions)})")
    return load_product_file(versions[chosen])

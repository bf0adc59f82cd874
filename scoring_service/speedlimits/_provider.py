"""Where speed limits come from: any object answering `limits_kmh(lat, lon)` for many points."""

from typing import Protocol

from scoring_service.trips import FloatArray

__all__ = ["SpeedLimitProvider"]


class SpeedLimitProvider(Protocol):
    """Posted speed limits, km/h, at positions; NaN where the limit is unknown (no road data, no
    `maxspeed`, or no road near enough). Must be pure: the same points give the same limits."""

    def limits_kmh(self, lat: FloatArray, lon: FloatArray) -> FloatArray: ...

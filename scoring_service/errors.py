"""Errors of the scoring side (trips, events, scores, risk model). Ingestion has its own, trip
files are `protocol.TripFileError`.

ScoringError
├── ProductError        a product definition is missing or invalid
├── SpeedLimitError     the speed-limit data cannot be read or built
└── RiskModelError      a claims table, feature table or saved model is unusable
"""

__all__ = ["ProductError", "RiskModelError", "ScoringError", "SpeedLimitError"]


class ScoringError(Exception):
    """Base of every error raised by scoring code."""


class ProductError(ScoringError):
    """A product definition file is missing, unreadable or fails validation."""


class SpeedLimitError(ScoringError):
    """Speed-limit data is missing or malformed."""


class RiskModelError(ScoringError):
    """Claims or feature data cannot be used to fit, or a saved model is corrupt."""

"""Errors of the scoring side (trips, events, scores, risk model). Ingestion has its own.

ScoringError
├── ProductError        a product definition is missing or invalid
├── SpeedLimitError     the speed-limit data cannot be read or built
├── TripFileError       a recorded trip file cannot be read (bad header, row, time)
└── RiskModelError      a claims table, feature table or saved model is unusable
"""

__all__ = ["ProductError", "RiskModelError", "ScoringError", "SpeedLimitError", "TripFileError"]


class ScoringError(Exception):
    """Base of every error raised by scoring code."""


class ProductError(ScoringError):
    """A product definition file is missing, unreadable or fails validation."""


class SpeedLimitError(ScoringError):
    """Speed-limit data is missing or malformed."""


class TripFileError(ScoringError):
    """A recorded trip file is malformed; the message names the line and field."""


class RiskModelError(ScoringError):
    """Claims or feature data cannot be used to fit, or a saved model is corrupt."""

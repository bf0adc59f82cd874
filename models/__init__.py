"""SQLAlchemy 2 typed tables of NEOT and the session factory. Alembic (`migrations/`) owns the schema."""

from models._base import Base, UTCDateTime, utcnow
from models._money import (
    JobState,
    JournalEntry,
    LedgerAccount,
    Payment,
    PaymentState,
    Posting,
    RepairJob,
    UnbalancedEntryError,
)
from models._parties import Device, Driver, Insurer, RepairShop, Vehicle
from models._policies import EpochState, Policy, PolicyStatus, ScoreEpoch
from models._session import make_engine, make_session_factory, session_scope
from models._telemetry import EventKind, Sample, Trip, TripEvent, TripScore, UploadBatch

__all__ = [
    "Base",
    "Device",
    "Driver",
    "EpochState",
    "EventKind",
    "Insurer",
    "JobState",
    "JournalEntry",
    "LedgerAccount",
    "Payment",
    "PaymentState",
    "Policy",
    "PolicyStatus",
    "Posting",
    "RepairJob",
    "RepairShop",
    "Sample",
    "ScoreEpoch",
    "Trip",
    "TripEvent",
    "TripScore",
    "UTCDateTime",
    "UnbalancedEntryError",
    "UploadBatch",
    "Vehicle",
    "make_engine",
    "make_session_factory",
    "session_scope",
    "utcnow",
]

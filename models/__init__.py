"""SQLAlchemy 2 typed tables of NEOT and the session factory. Alembic (`migrations/`) owns the schema."""

from models._auth import ApiKey, CredentialRevocation, Role, User
from models._base import Base, UTCDateTime, utcnow
from models._commitments import AnchorAttempt, Commitment
from models._idempotency import IdempotentRequest, RequestState
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
from models._partitions import (
    MonthPartition,
    drop_month_partition,
    ensure_month_partitions,
    is_month_partition,
    month_of_ns,
    month_partition,
    month_partitions,
    months_spanned,
)
from models._policies import EpochState, Policy, PolicyStatus, ScoreEpoch
from models._session import make_engine, make_session_factory, session_scope
from models._statements import Product, Statement, StatementScore
from models._telemetry import (
    DeviceStatusReport,
    DirtyDevice,
    EventKind,
    Sample,
    Trip,
    TripEvent,
    TripScore,
    TroubleCodeReport,
    UploadBatch,
)

__all__ = [
    "AnchorAttempt",
    "ApiKey",
    "Base",
    "Commitment",
    "CredentialRevocation",
    "Device",
    "DeviceStatusReport",
    "DirtyDevice",
    "Driver",
    "EpochState",
    "EventKind",
    "IdempotentRequest",
    "Insurer",
    "JobState",
    "JournalEntry",
    "LedgerAccount",
    "MonthPartition",
    "Payment",
    "PaymentState",
    "Policy",
    "PolicyStatus",
    "Posting",
    "Product",
    "RepairJob",
    "RepairShop",
    "RequestState",
    "Role",
    "Sample",
    "ScoreEpoch",
    "Statement",
    "StatementScore",
    "Trip",
    "TripEvent",
    "TripScore",
    "TroubleCodeReport",
    "UTCDateTime",
    "UnbalancedEntryError",
    "UploadBatch",
    "User",
    "Vehicle",
    "drop_month_partition",
    "ensure_month_partitions",
    "is_month_partition",
    "make_engine",
    "make_session_factory",
    "month_of_ns",
    "month_partition",
    "month_partitions",
    "months_spanned",
    "session_scope",
    "utcnow",
]

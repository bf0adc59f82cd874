"""Repair jobs, the NEOT PDNE service: Negotiation picks a shop from public data, funds are frozen
in escrow, Evaluation splits them by the shop's on-chain track record."""

from insurer_api.repair._errors import InvalidRepairError, JobStateError, NotFoundError, RepairError
from insurer_api.repair._evaluation import (
    NEW_SHOP_SHARE,
    SENIOR_MIN_JOBS,
    SENIOR_MIN_RATE,
    SENIOR_SHOP_SHARE,
    InvoiceTooHighError,
    Split,
    is_senior,
    split_payout,
)
from insurer_api.repair._negotiation import (
    PRIOR_FAILURES,
    PRIOR_SUCCESSES,
    Candidate,
    EscrowEvent,
    EscrowEventKind,
    Ineligibility,
    Negotiation,
    RankedShop,
    TrackRecord,
    negotiate,
    service_matches,
    track_records,
)

__all__ = [
    "NEW_SHOP_SHARE",
    "PRIOR_FAILURES",
    "PRIOR_SUCCESSES",
    "SENIOR_MIN_JOBS",
    "SENIOR_MIN_RATE",
    "SENIOR_SHOP_SHARE",
    "Candidate",
    "EscrowEvent",
    "EscrowEventKind",
    "Ineligibility",
    "InvalidRepairError",
    "InvoiceTooHighError",
    "JobStateError",
    "Negotiation",
    "NotFoundError",
    "RankedShop",
    "RepairError",
    "Split",
    "TrackRecord",
    "is_senior",
    "negotiate",
    "service_matches",
    "split_payout",
    "track_records",
]

"""Repair jobs, the NEOT PDNE service: Negotiation picks a shop from public data, funds are frozen
in escrow, Evaluation splits them by the shop's on-chain track record.

`sync_jobs` loads on first use (PEP 562): its module needs the payments stack, which `neot repair`
commands must not pull in at start-up.
"""

from typing import Any

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
    "sync_jobs",
    "track_records",
]


def __getattr__(name: str) -> Any:
    if name == "sync_jobs":
        from insurer_api.repair._service import sync_jobs

        return sync_jobs
    raise AttributeError(f"module 'insurer_api.repair' has no attribute {name!r}")

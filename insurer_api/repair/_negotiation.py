"""Negotiation: which repair shop gets a job, decided by one pure function over public data.

Everything the decision reads is public, so anyone can recompute it:

- each shop's registration (NEO address, services offered, capacity) and its number of open jobs;
- its track record, rebuilt from the escrow contract's `JobReleased` / `JobRefunded` events alone;
- the insurer's NEOT balance on chain, against the amount to authorise.

The rule, in order:

1. **Eligible** when the shop offers the job's service (an offered pattern matches the service
   exactly, or ends in `*` and is a prefix of it: `dtc:P03*`, `dtc:*`), has free capacity (open jobs
   < capacity) and the insurer's balance covers the authorised amount.
2. **Ranked** by the smoothed success rate `(successes + 1) / (jobs + 2)` (Laplace's rule: a Beta(1, 1)
   prior, so one lucky job does not beat a long good record), then by number of settled jobs, then
   by NEO address (ascending) as the final tie-break. Rates are exact fractions: no float rounding
   can ever reorder two shops.

The top-ranked eligible shop wins; with none eligible the job stays open and says why.
"""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from fractions import Fraction

__all__ = [
    "PRIOR_FAILURES",
    "PRIOR_SUCCESSES",
    "Candidate",
    "EscrowEvent",
    "EscrowEventKind",
    "Ineligibility",
    "Negotiation",
    "RankedShop",
    "TrackRecord",
    "negotiate",
    "service_matches",
    "track_records",
]

PRIOR_SUCCESSES = 1
PRIOR_FAILURES = 1


class EscrowEventKind(StrEnum):
    """The escrow contract's repair-job events that make up a shop's public record."""

    LOCKED = "locked"
    RELEASED = "released"
    REFUNDED = "refunded"


@dataclass(frozen=True, slots=True)
class EscrowEvent:
    """One repair-job event read from the chain; `shop` is the NEO address the job was assigned to."""

    kind: EscrowEventKind
    job_id: str
    shop: str
    block: int


@dataclass(frozen=True, slots=True)
class TrackRecord:
    """A shop's settled jobs on chain: a release is a success, a refund a failure."""

    jobs: int = 0
    successes: int = 0

    @property
    def smoothed_rate(self) -> Fraction:
        """Success rate with the Beta(1, 1) prior, exact."""
        return Fraction(self.successes + PRIOR_SUCCESSES, self.jobs + PRIOR_SUCCESSES + PRIOR_FAILURES)

    @property
    def raw_rate(self) -> Fraction:
        """Plain success rate; zero for a shop with no settled job."""
        return Fraction(self.successes, self.jobs) if self.jobs else Fraction(0)


def track_records(events: Iterable[EscrowEvent], *, up_to_block: int | None = None) -> dict[str, TrackRecord]:
    """Each shop's record from escrow events, counting each job once by its settlement.

    Locks alone do not count: a job in progress is neither a success nor a failure yet. A job id
    settled twice cannot happen on chain (the contract refuses), so the first settlement wins if a
    reader ever hands in duplicates.
    """
    settled: dict[str, tuple[str, bool]] = {}
    for ev in sorted(events, key=lambda e: (e.block, e.job_id)):
        if up_to_block is not None and ev.block > up_to_block:
            continue
        if ev.kind is EscrowEventKind.LOCKED or ev.job_id in settled:
            continue
        settled[ev.job_id] = (ev.shop, ev.kind is EscrowEventKind.RELEASED)
    counts: dict[str, list[int]] = {}
    for shop, ok in settled.values():
        jobs_ok = counts.setdefault(shop, [0, 0])
        jobs_ok[0] += 1
        jobs_ok[1] += int(ok)
    return {shop: TrackRecord(jobs=j, successes=s) for shop, (j, s) in counts.items()}


def service_matches(offered: str, service: str) -> bool:
    """`offered` is a service name, or a prefix pattern ending in `*`."""
    if offered.endswith("*"):
        return service.startswith(offered[:-1])
    return offered == service


@dataclass(frozen=True, slots=True)
class Candidate:
    """A registered shop as Negotiation sees it: only public facts."""

    shop_id: int
    neo_address: str
    services: tuple[str, ...]
    capacity: int
    open_jobs: int


class Ineligibility(StrEnum):
    """Why a shop could not take the job."""

    SERVICE = "does not offer the service"
    CAPACITY = "no free capacity"
    FUNDS = "insurer funds do not cover the authorised amount"


@dataclass(frozen=True, slots=True)
class RankedShop:
    """One line of the explanation: the shop, its record and, if excluded, why."""

    candidate: Candidate
    record: TrackRecord
    excluded: tuple[Ineligibility, ...]

    @property
    def eligible(self) -> bool:
        return not self.excluded

    def sort_key(self) -> tuple[Fraction, int, str]:
        """Ascending sort puts the best first: higher smoothed rate, more jobs, lower address."""
        return (-self.record.smoothed_rate, -self.record.jobs, self.candidate.neo_address)


@dataclass(frozen=True, slots=True)
class Negotiation:
    """The outcome: every shop in rank order (eligible first) and the winner, if any."""

    service: str
    authorised_amount: int
    insurer_balance: int
    ranking: tuple[RankedShop, ...] = field(default_factory=tuple)

    @property
    def winner(self) -> RankedShop | None:
        return next((r for r in self.ranking if r.eligible), None)


def negotiate(
    *,
    service: str,
    authorised_amount: int,
    insurer_balance: int,
    candidates: Sequence[Candidate],
    records: Mapping[str, TrackRecord],
) -> Negotiation:
    """Rank every candidate for `service` and pick the best eligible one (see the module docstring)."""
    ranked: list[RankedShop] = []
    for cand in candidates:
        excluded: list[Ineligibility] = []
        if not any(service_matches(offered, service) for offered in cand.services):
            excluded.append(Ineligibility.SERVICE)
        if cand.open_jobs >= cand.capacity:
            excluded.append(Ineligibility.CAPACITY)
        if insurer_balance < authorised_amount:
            excluded.append(Ineligibility.FUNDS)
        ranked.append(RankedShop(cand, records.get(cand.neo_address, TrackRecord()), tuple(excluded)))
    ranked.sort(key=lambda r: (not r.eligible, r.sort_key()))
    return Negotiation(
        service=service,
        authorised_amount=authorised_amount,
        insurer_balance=insurer_balance,
        ranking=tuple(ranked),
    )

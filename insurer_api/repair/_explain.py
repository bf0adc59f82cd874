"""Recompute a job's Negotiation from what was stored with it, and say in words why the shop won.

The job keeps every public input Negotiation read (shops, their capacity and open jobs, their
records, the insurer's balance, the chain height). `explain` runs `negotiate` again on those
inputs and checks it picks the same shop; given the escrow's events, it also rebuilds each shop's
record up to that height and flags any record that the chain does not confirm.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from insurer_api.repair._negotiation import (
    Candidate,
    EscrowEvent,
    Negotiation,
    RankedShop,
    TrackRecord,
    negotiate,
    track_records,
)

__all__ = ["Explanation", "explain", "why_winner"]


@dataclass(frozen=True, slots=True)
class Explanation:
    """The recomputed Negotiation, whether it matches what was decided, and the reason in words."""

    negotiation: Negotiation
    stored_winner: str | None
    reproduced: bool
    reason: str
    chain_mismatches: Mapping[str, tuple[TrackRecord, TrackRecord]]  # address → (stored, on chain)


def _inputs(snapshot: Mapping[str, Any]) -> tuple[list[Candidate], dict[str, TrackRecord]]:
    candidates, records = [], {}
    for row in snapshot["ranking"]:
        candidates.append(
            Candidate(
                shop_id=int(row["shop_id"]),
                neo_address=str(row["neo_address"]),
                services=tuple(row["services"]),
                capacity=int(row["capacity"]),
                open_jobs=int(row["open_jobs"]),
            )
        )
        records[str(row["neo_address"])] = TrackRecord(jobs=int(row["jobs"]), successes=int(row["successes"]))
    return candidates, records


def _pct(record: TrackRecord) -> str:
    rate = record.smoothed_rate
    return f"{rate.numerator}/{rate.denominator} ({float(rate) * 100:.1f} %)"


def why_winner(result: Negotiation) -> str:
    """One sentence: why the winner beat the best other eligible shop (or why nobody won)."""
    winner = result.winner
    if winner is None:
        return (
            "no shop is eligible: "
            + "; ".join(f"{r.candidate.neo_address} {', '.join(r.excluded)}" for r in result.ranking)
            if result.ranking
            else "no shop is registered"
        )
    others: Sequence[RankedShop] = [r for r in result.ranking if r.eligible and r is not winner]
    head = f"{winner.candidate.neo_address} wins with smoothed success rate {_pct(winner.record)}"
    if not others:
        return f"{head}: the only eligible shop"
    runner = others[0]
    if winner.record.smoothed_rate != runner.record.smoothed_rate:
        return f"{head}, above {runner.candidate.neo_address} at {_pct(runner.record)}"
    if winner.record.jobs != runner.record.jobs:
        return (
            f"{head}, tied on rate with {runner.candidate.neo_address}; more settled jobs "
            f"({winner.record.jobs} vs {runner.record.jobs})"
        )
    return f"{head}, tied on rate and jobs with {runner.candidate.neo_address}; lower address breaks the tie"


def explain(snapshot: Mapping[str, Any], *, chain_events: Sequence[EscrowEvent] | None = None) -> Explanation:
    """Re-run Negotiation on a job's stored inputs; with `chain_events`, check the stored records too."""
    candidates, records = _inputs(snapshot)
    result = negotiate(
        service=str(snapshot["service"]),
        authorised_amount=int(snapshot["authorised_amount"]),
        insurer_balance=int(snapshot["insurer_balance"]),
        candidates=candidates,
        records=records,
    )
    stored_winner = snapshot.get("winner")
    recomputed = result.winner.candidate.neo_address if result.winner else None
    order = [r.candidate.neo_address for r in result.ranking]
    stored_order = [str(row["neo_address"]) for row in snapshot["ranking"]]
    mismatches: dict[str, tuple[TrackRecord, TrackRecord]] = {}
    if chain_events is not None:
        on_chain = track_records(chain_events, up_to_block=int(snapshot["chain_height"]))
        for address, stored in records.items():
            actual = on_chain.get(address, TrackRecord())
            if actual != stored:
                mismatches[address] = (stored, actual)
    return Explanation(
        negotiation=result,
        stored_winner=None if stored_winner is None else str(stored_winner),
        reproduced=recomputed == stored_winner and order == stored_order,
        reason=why_winner(result),
        chain_mismatches=mismatches,
    )

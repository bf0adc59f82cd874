"""Repair jobs from opening to payout: the NEOT PDNE service with real money in escrow.

    claim / trouble code ─▶ OPENED ─▶ Negotiation ─▶ ASSIGNED ─▶ lock in escrow ─▶ LOCKED
    LOCKED ── invoice ──▶ INVOICED ── code cleared / insurer approves ──▶ COMPLETED ─▶ Evaluation ─▶ PAID
    LOCKED ── code cleared ──▶ COMPLETED ── invoice ──▶ Evaluation ─▶ PAID
    LOCKED / INVOICED / COMPLETED ── insurer fails or disputes ──▶ FAILED ─▶ refund ─▶ REFUNDED

Every money step goes through `insurer_api.payments.execute` with a key derived from the job
(`job:<id>:lock`, `job:<id>:release`, `job:<id>:refund`), so a retried step never moves money twice
and the lock and the settlement can never both be refunded and released (the contract settles a
job once as well).
"""

import secrets
from collections.abc import Sequence
from typing import Any

import structlog
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from insurer_api.payments import (
    IN_FLIGHT,
    ChainEvent,
    ChainRefusedError,
    EscrowGateway,
    PaymentKind,
    PaymentState,
    Plan,
    execute,
    job_account,
    wallet_account,
)
from insurer_api.repair._errors import InvalidRepairError, JobStateError
from insurer_api.repair._evaluation import SENIOR_SHOP_SHARE, split_payout
from insurer_api.repair._negotiation import (
    Candidate,
    EscrowEvent,
    EscrowEventKind,
    Negotiation,
    TrackRecord,
    negotiate,
    track_records,
)
from models import Insurer, JobState, Payment, Policy, PolicyStatus, RepairJob, RepairShop
from protocol import RecordType
from scoring_service.anchoring import commit_record

__all__ = [
    "ACTIVE_STATES",
    "approve",
    "candidates",
    "escrow_events",
    "fail",
    "mark_paid",
    "negotiation_snapshot",
    "open_job",
    "register_shop",
    "report_trouble_codes",
    "service_for_dtc",
    "submit_invoice",
    "sync_jobs",
]

_log = structlog.get_logger(__name__)

# A job in one of these states occupies one unit of its shop's capacity.
ACTIVE_STATES = (JobState.ASSIGNED, JobState.LOCKED, JobState.INVOICED, JobState.COMPLETED)
_EVENT_KINDS = {
    "JobLocked": EscrowEventKind.LOCKED,
    "JobReleased": EscrowEventKind.RELEASED,
    "JobRefunded": EscrowEventKind.REFUNDED,
}


def service_for_dtc(dtc: str) -> str:
    """The service a trouble code asks for: `dtc:P0301`; shops offer patterns like `dtc:P03*`."""
    return f"dtc:{dtc.strip().upper()}"


def register_shop(
    session: Session, *, name: str, neo_address: str, services: Sequence[str], capacity: int
) -> RepairShop:
    """A shop joins the marketplace; its services and capacity are public input to Negotiation."""
    if capacity < 1:
        raise InvalidRepairError("capacity must be at least one job")
    if not services:
        raise InvalidRepairError("a shop must offer at least one service")
    if any(s.count("*") > 1 or ("*" in s and not s.endswith("*")) for s in services):
        raise InvalidRepairError("a service is a name, or a prefix pattern with one trailing `*`")
    shop = RepairShop(name=name, neo_address=neo_address, services=sorted(set(services)), capacity=capacity)
    session.add(shop)
    session.flush()
    return shop


def escrow_events(events: Sequence[ChainEvent]) -> list[EscrowEvent]:
    """The repair-job events among everything the escrow emitted."""
    return [
        EscrowEvent(kind=_EVENT_KINDS[ev.name], job_id=ev.raw("job_id").decode(), shop=ev.text("shop"), block=ev.block)
        for ev in events
        if ev.name in _EVENT_KINDS
    ]


def candidates(session: Session) -> list[Candidate]:
    """Every registered shop with its count of jobs in progress."""
    busy: dict[int | None, int] = {
        shop_id: count
        for shop_id, count in session.execute(
            select(RepairJob.shop_id, func.count())
            .where(RepairJob.state.in_(ACTIVE_STATES), RepairJob.shop_id.is_not(None))
            .group_by(RepairJob.shop_id)
        )
    }
    shops = session.scalars(select(RepairShop).order_by(RepairShop.id))
    return [
        Candidate(
            shop_id=s.id,
            neo_address=s.neo_address,
            services=tuple(s.services),
            capacity=s.capacity,
            open_jobs=int(busy.get(s.id, 0)),
        )
        for s in shops
    ]


def negotiation_snapshot(result: Negotiation, *, chain_height: int) -> dict[str, Any]:
    """Everything Negotiation read and decided, as stored on the job for `neot repair explain`."""
    winner = result.winner
    return {
        "rule": "eligible: offers service, free capacity, insurer funds; rank: smoothed rate, jobs, address",
        "service": result.service,
        "authorised_amount": result.authorised_amount,
        "insurer_balance": result.insurer_balance,
        "chain_height": chain_height,
        "winner": winner.candidate.neo_address if winner else None,
        "ranking": [
            {
                "shop_id": r.candidate.shop_id,
                "neo_address": r.candidate.neo_address,
                "services": list(r.candidate.services),
                "capacity": r.candidate.capacity,
                "open_jobs": r.candidate.open_jobs,
                "jobs": r.record.jobs,
                "successes": r.record.successes,
                "excluded": [str(x) for x in r.excluded],
            }
            for r in result.ranking
        ],
    }


async def _records(gateway: EscrowGateway) -> tuple[dict[str, TrackRecord], int]:
    height = await gateway.height()
    events = escrow_events(await gateway.escrow_events())
    return track_records(events, up_to_block=height), height


async def open_job(
    session: Session,
    gateway: EscrowGateway,
    *,
    policy: Policy,
    service: str,
    authorised_amount: int,
    opened_by: str,
    royalty_address: str,
    dtc: str | None = None,
) -> RepairJob:
    """Open a job, let Negotiation pick the shop, and lock the authorisation in escrow.

    With no eligible shop the job stays OPENED, its `outcome_reason` saying why. A lock the chain
    refuses leaves the job FAILED with the chain's reason; nothing was locked.
    """
    if authorised_amount <= 0:
        raise InvalidRepairError("the authorised amount must be positive")
    if policy.status is not PolicyStatus.ACTIVE:
        raise JobStateError(f"policy {policy.id} is {policy.status.value}, not active")
    insurer = session.get_one(Insurer, policy.insurer_id)
    job = RepairJob(
        policy_id=policy.id,
        service=service,
        dtc=dtc,
        state=JobState.OPENED,
        authorised_amount=authorised_amount,
        chain_job_id=secrets.token_hex(16),
        opened_by=opened_by,
        royalty_address=royalty_address,
    )
    session.add(job)
    session.commit()

    records, height = await _records(gateway)
    result = negotiate(
        service=service,
        authorised_amount=authorised_amount,
        insurer_balance=await gateway.balance_of(insurer.neo_address),
        candidates=candidates(session),
        records=records,
    )
    job.negotiation = negotiation_snapshot(result, chain_height=height)
    winner = result.winner
    if winner is None:
        job.outcome_reason = (
            "no eligible shop: "
            + "; ".join(f"{r.candidate.neo_address}: {', '.join(r.excluded)}" for r in result.ranking)
            if result.ranking
            else "no eligible shop: none registered"
        )
        session.commit()
        _log.info("repair job open without a shop", job=job.id, service=service)
        return job
    job.shop_id = winner.candidate.shop_id
    job.state = JobState.ASSIGNED
    session.commit()
    await _lock(session, gateway, job=job, insurer=insurer, shop_address=winner.candidate.neo_address)
    return job


async def _lock(
    session: Session, gateway: EscrowGateway, *, job: RepairJob, insurer: Insurer, shop_address: str
) -> None:
    job_id = job.chain_job_id.encode()
    try:
        payment = await execute(
            session,
            gateway,
            key=f"job:{job.id}:lock",
            kind=PaymentKind.JOB_LOCK,
            plan=Plan(
                source=wallet_account(insurer.neo_address),
                destinations={job_account(job.chain_job_id): job.authorised_amount},
            ),
            prepare=lambda: gateway.prepare_lock(
                insurer=insurer.neo_address, job_id=job_id, shop=shop_address, amount=job.authorised_amount
            ),
        )
    except ChainRefusedError as exc:
        job.state = JobState.FAILED
        job.outcome_reason = f"escrow lock refused: {exc}"
        session.commit()
        return
    if payment.state is PaymentState.CONFIRMED:
        job.state = JobState.LOCKED
    else:
        job.state = JobState.FAILED
        job.outcome_reason = f"escrow lock {payment.state.value}: {payment.error}"
    session.commit()


async def submit_invoice(session: Session, gateway: EscrowGateway | None, *, job: RepairJob, amount: int) -> RepairJob:
    """The shop bills the job; if completion is already verified, Evaluation pays at once (which
    needs `gateway`; a job still being worked on needs none)."""
    if job.state not in (JobState.LOCKED, JobState.COMPLETED) or job.invoice_amount is not None:
        raise JobStateError(f"job {job.id} is {job.state.value}; an invoice needs a locked job without one")
    if job.state is JobState.COMPLETED and gateway is None:
        raise JobStateError(f"job {job.id} is completed: paying its invoice needs the chain")
    if not 0 < amount <= job.authorised_amount:
        raise InvalidRepairError(
            f"invoice {amount} must be positive and at most the authorised amount {job.authorised_amount}"
        )
    job.invoice_amount = amount
    if job.state is JobState.LOCKED:
        job.state = JobState.INVOICED
    session.commit()
    if job.state is JobState.COMPLETED:
        if gateway is None:
            raise TypeError(f"job {job.id}'s completion is verified: its invoice is paid on chain, pass the gateway")
        await _evaluate(session, gateway, job)
    return job


async def approve(session: Session, gateway: EscrowGateway, *, job: RepairJob, reason: str) -> RepairJob:
    """Completion verified (insurer approval or the code cleared): pay if invoiced, else await the bill."""
    if job.state is JobState.COMPLETED and job.invoice_amount is not None:
        await _evaluate(session, gateway, job)  # finishing a payout interrupted earlier
        return job
    if job.state not in (JobState.LOCKED, JobState.INVOICED):
        raise JobStateError(f"job {job.id} is {job.state.value}; only a locked or invoiced job can complete")
    job.state = JobState.COMPLETED
    job.outcome_reason = reason
    session.commit()
    if job.invoice_amount is not None:
        await _evaluate(session, gateway, job)
    return job


async def _evaluate(session: Session, gateway: EscrowGateway, job: RepairJob) -> None:
    """Evaluation: the split the shop's on-chain record earns, paid by one escrow `release`.

    A release already under way (sent before a crash, say) is finished with its own split, not
    recomputed: the shop's record may have grown since, but the transaction is already signed.
    """
    if job.invoice_amount is None or job.shop_id is None or job.royalty_address is None:
        raise JobStateError(f"job {job.id} has no invoice, shop or royalty account to pay")
    shop = session.get_one(RepairShop, job.shop_id)
    policy = session.get_one(Policy, job.policy_id)
    insurer = session.get_one(Insurer, policy.insurer_id)
    key = f"job:{job.id}:release"
    live = session.scalar(
        select(Payment).where(Payment.idempotency_key == key, Payment.state.in_((*IN_FLIGHT, PaymentState.CONFIRMED)))
    )
    if live is not None:
        plan = Plan.from_json(live.plan)
        shop_amount = plan.destinations.get(wallet_account(shop.neo_address), 0)
        royalty_amount = plan.destinations.get(wallet_account(job.royalty_address), 0)
    else:
        records, _ = await _records(gateway)
        split = split_payout(
            invoice_amount=job.invoice_amount,
            authorised_amount=job.authorised_amount,
            record=records.get(shop.neo_address, TrackRecord()),
        )
        shop_amount, royalty_amount = split.shop_amount, split.royalty_amount
        plan = Plan(
            source=job_account(job.chain_job_id),
            destinations={
                wallet_account(shop.neo_address): split.shop_amount,
                wallet_account(job.royalty_address): split.royalty_amount,
                wallet_account(insurer.neo_address): split.insurer_refund,
            },
        )
    royalty_address = job.royalty_address
    payment = await execute(
        session,
        gateway,
        key=key,
        kind=PaymentKind.JOB_RELEASE,
        plan=plan,
        prepare=lambda: gateway.prepare_release(
            insurer=insurer.neo_address,
            job_id=job.chain_job_id.encode(),
            shop=shop.neo_address,
            shop_amount=shop_amount,
            royalty_account=royalty_address,
            royalty_amount=royalty_amount,
        ),
    )
    if payment.state is PaymentState.CONFIRMED:
        mark_paid(session, job=job, payment=payment)
    else:
        job.outcome_reason = f"payout {payment.state.value}: {payment.error}"
    session.commit()


def mark_paid(session: Session, *, job: RepairJob, payment: Payment) -> None:
    """Record a confirmed release on the job, and commit the payout as a Merkle leaf in the same
    transaction (provable on NEO once anchored). Called by Evaluation and by reconciliation."""
    if job.shop_id is None or job.royalty_address is None or job.invoice_amount is None:
        raise JobStateError(f"job {job.id} has no shop, royalty account or invoice to record a payout for")
    shop = session.get_one(RepairShop, job.shop_id)
    plan = Plan.from_json(payment.plan)
    shop_amount = plan.destinations.get(wallet_account(shop.neo_address), 0)
    royalty_amount = plan.destinations.get(wallet_account(job.royalty_address), 0)
    refund = job.authorised_amount - shop_amount - royalty_amount
    senior = shop_amount * SENIOR_SHOP_SHARE.denominator >= job.invoice_amount * SENIOR_SHOP_SHARE.numerator
    job.state = JobState.PAID
    job.shop_amount = shop_amount
    job.royalty_amount = royalty_amount
    job.outcome_reason = (
        f"{job.outcome_reason or 'completed'}; {'senior' if senior else 'new or weaker'} shop "
        f"paid {shop_amount}, royalty {royalty_amount}, returned {refund}"
    )
    payout = {
        "type": "repair_payout",
        "job_id": job.id,
        "chain_job_id": job.chain_job_id,
        "service": job.service,
        "shop_address": shop.neo_address,
        "invoice_amount": job.invoice_amount,
        "shop_amount": shop_amount,
        "royalty_amount": royalty_amount,
        "insurer_refund": refund,
        "senior_shop": senior,
        "tx": payment.intended_tx,
    }
    commit_record(session, record_type=RecordType.REPAIR_PAYOUT, record_id=job.id, record=payout)


def sync_jobs(session: Session) -> list[tuple[int, JobState, JobState]]:
    """Bring jobs up to date with payments settled outside their request (reconciliation after a
    crash): lock confirmed → locked, lock voided or failed → failed, release confirmed → paid,
    refund confirmed → refunded. Returns (job id, before, after) for each change; commits."""
    payments = {
        p.idempotency_key: p
        for p in session.scalars(
            select(Payment).where(
                Payment.idempotency_key.startswith("job:"),
                Payment.state.in_((PaymentState.CONFIRMED, PaymentState.VOID, PaymentState.FAILED)),
            )
        )
    }
    changed = []
    for job in session.scalars(
        select(RepairJob).where(RepairJob.state.in_((JobState.ASSIGNED, JobState.COMPLETED, JobState.FAILED)))
    ):
        lock, release, refund = (payments.get(f"job:{job.id}:{step}") for step in ("lock", "release", "refund"))
        before = job.state
        if job.state is JobState.ASSIGNED and lock is not None:
            job.state = JobState.LOCKED if lock.state is PaymentState.CONFIRMED else JobState.FAILED
        elif job.state is JobState.COMPLETED and release is not None and release.state is PaymentState.CONFIRMED:
            mark_paid(session, job=job, payment=release)
        elif job.state is JobState.FAILED and refund is not None and refund.state is PaymentState.CONFIRMED:
            job.state = JobState.REFUNDED
        if job.state is not before:
            changed.append((job.id, before, job.state))
    session.commit()
    return changed


def _locked(session: Session, job: RepairJob) -> bool:
    """Whether the job's authorisation was locked in escrow (its lock payment is confirmed)."""
    lock = session.scalar(select(Payment).where(Payment.idempotency_key == f"job:{job.id}:lock"))
    return lock is not None and lock.state is PaymentState.CONFIRMED


async def fail(session: Session, gateway: EscrowGateway, *, job: RepairJob, reason: str) -> RepairJob:
    """A failed or disputed job: everything locked goes back to the insurer."""
    if job.state not in (JobState.LOCKED, JobState.INVOICED, JobState.COMPLETED, JobState.FAILED):
        raise JobStateError(f"job {job.id} is {job.state.value}; only a funded, unpaid job can fail")
    if job.state is JobState.FAILED and not _locked(session, job):
        raise JobStateError(f"job {job.id} never had funds locked")
    policy = session.get_one(Policy, job.policy_id)
    insurer = session.get_one(Insurer, policy.insurer_id)
    job.state = JobState.FAILED
    job.outcome_reason = reason
    session.commit()
    payment = await execute(
        session,
        gateway,
        key=f"job:{job.id}:refund",
        kind=PaymentKind.JOB_REFUND,
        plan=Plan(
            source=job_account(job.chain_job_id),
            destinations={wallet_account(insurer.neo_address): job.authorised_amount},
        ),
        prepare=lambda: gateway.prepare_refund(insurer=insurer.neo_address, job_id=job.chain_job_id.encode()),
    )
    if payment.state is PaymentState.CONFIRMED:
        job.state = JobState.REFUNDED
    else:
        job.outcome_reason = f"{reason}; refund {payment.state.value}: {payment.error}"
    session.commit()
    return job


async def report_trouble_codes(
    session: Session,
    gateway: EscrowGateway,
    *,
    policy: Policy,
    active_codes: Sequence[str],
    authorised_amount: int,
    royalty_address: str,
) -> list[RepairJob]:
    """A vehicle's current trouble codes: new ones open jobs, vanished ones verify completion.

    A code that already has a job in progress does not open another one, so a car that reports
    the same code every minute gets one repair.
    """
    codes = {c.strip().upper() for c in active_codes}
    jobs = list(
        session.scalars(
            select(RepairJob).where(
                RepairJob.policy_id == policy.id,
                RepairJob.dtc.is_not(None),
                RepairJob.state.in_((JobState.OPENED, *ACTIVE_STATES)),
            )
        )
    )
    touched: list[RepairJob] = []
    for job in jobs:
        if job.dtc not in codes and job.state in (JobState.LOCKED, JobState.INVOICED):
            touched.append(await approve(session, gateway, job=job, reason=f"trouble code {job.dtc} cleared"))
    open_codes = {j.dtc for j in jobs}
    for code in sorted(codes - open_codes):
        touched.append(
            await open_job(
                session,
                gateway,
                policy=policy,
                service=service_for_dtc(code),
                authorised_amount=authorised_amount,
                opened_by="dtc",
                royalty_address=royalty_address,
                dtc=code,
            )
        )
    return touched

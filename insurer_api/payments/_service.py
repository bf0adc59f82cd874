"""Moving NEOT exactly once: intent written and committed, then sent, then confirmed or voided.

    prepare (test-invoke, sign)  ──▶  INTENDED (+ ledger: source → pending) ── commit
        ──▶ send ──▶ SENT ──▶ in a block, HALT   ──▶ CONFIRMED (pending → destinations)
                          ├─▶ in a block, FAULT  ──▶ FAILED    (pending → source)
                          └─▶ expired unseen     ──▶ VOID      (pending → source)

A payment is keyed by a business key (`job:<id>:lock`, `premium:<policy>:<period>`), unique in
the database, so a second caller for the same action finds the first payment instead of paying
again. Whoever finds a payment still in flight may finish it: re-sending the same signed bytes
cannot double-pay (one hash, one inclusion), and the final transition is a compare-and-set on the
state, so exactly one finisher writes the closing ledger entry.
"""

import hashlib
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum

import structlog
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from insurer_api.payments._chain import EscrowGateway, PreparedTx, TxOutcome
from insurer_api.payments._errors import PaymentError
from insurer_api.payments._ledger import pending_account, post
from models import Payment, PaymentState

__all__ = [
    "IN_FLIGHT",
    "PaymentKind",
    "Plan",
    "execute",
    "finish",
    "record_observed",
    "settle",
]

_log = structlog.get_logger(__name__)

IN_FLIGHT = (PaymentState.INTENDED, PaymentState.SENT)


class PaymentKind(StrEnum):
    """What a payment does on chain."""

    JOB_LOCK = "job_lock"
    JOB_RELEASE = "job_release"
    JOB_REFUND = "job_refund"
    PREMIUM_CHARGE = "premium_charge"
    PREMIUM_DEPOSIT = "premium_deposit"
    PREMIUM_WITHDRAWAL = "premium_withdrawal"


@dataclass(frozen=True, slots=True)
class Plan:
    """The ledger side of a payment: `amount` leaves `source` and reaches `destinations`."""

    source: str
    destinations: Mapping[str, int]

    @property
    def amount(self) -> int:
        return sum(self.destinations.values())

    def to_json(self) -> dict[str, object]:
        return {"source": self.source, "destinations": dict(sorted(self.destinations.items()))}

    @classmethod
    def from_json(cls, data: Mapping[str, object]) -> "Plan":
        source = data["source"]
        destinations = data["destinations"]
        if not isinstance(source, str) or not isinstance(destinations, dict):
            raise ValueError(f"a payment plan needs a source account and destinations, not {dict(data)!r}")
        return cls(source=source, destinations={str(k): int(v) for k, v in destinations.items()})


def _fingerprint(kind: PaymentKind, plan: Plan) -> bytes:
    return hashlib.sha256(f"{kind}|{plan.to_json()}".encode()).digest()


async def execute(
    session: Session,
    gateway: EscrowGateway,
    *,
    key: str,
    kind: PaymentKind,
    plan: Plan,
    prepare: Callable[[], Awaitable[PreparedTx]],
) -> Payment:
    """Do the payment called `key` once; a repeated call returns (or finishes) the first one.

    `prepare` is called only when no live payment with this key exists; a chain refusal there
    (`ChainRefusedError`) writes nothing. A confirmed payment is returned as it is; a voided or
    failed one (which moved nothing) is archived under a suffixed key and tried afresh.
    """
    existing = session.scalar(select(Payment).where(Payment.idempotency_key == key))
    if existing is not None and existing.state in (PaymentState.VOID, PaymentState.FAILED):
        _archive(session, existing)  # that attempt moved nothing: this call makes a fresh one
        existing = None
    if existing is None:
        prepared = await prepare()
        existing = _record_intent(session, key=key, kind=kind, plan=plan, prepared=prepared)
    if existing.request_sha256 != _fingerprint(kind, plan):
        raise PaymentError(f"payment {key!r} exists with different terms")
    if existing.state in IN_FLIGHT:
        await finish(session, gateway, existing)
    return existing


def _archive(session: Session, payment: Payment) -> None:
    """Free the key of a voided or failed attempt by renaming it; the row and its entries stay."""
    session.execute(
        update(Payment)
        .where(Payment.id == payment.id, Payment.state.in_((PaymentState.VOID, PaymentState.FAILED)))
        .values(idempotency_key=f"{payment.idempotency_key}~{payment.state.value}~{payment.id}")
        .execution_options(synchronize_session=False)
    )
    session.commit()


def _record_intent(session: Session, *, key: str, kind: PaymentKind, plan: Plan, prepared: PreparedTx) -> Payment:
    """Write and COMMIT the intent before anything is sent; lose a race to an equal payment gracefully."""
    payment = Payment(
        idempotency_key=key,
        request_sha256=_fingerprint(kind, plan),
        kind=kind.value,
        amount=plan.amount,
        state=PaymentState.INTENDED,
        intended_tx=prepared.tx_hash,
        raw_tx=prepared.raw,
        valid_until_block=prepared.valid_until_block,
        plan=plan.to_json(),
    )
    try:
        session.add(payment)
        session.flush()
        post(
            session,
            description=f"{kind.value} intended ({key})",
            amounts={plan.source: -plan.amount, pending_account(payment.id): plan.amount},
            payment=payment,
        )
        session.commit()
    except IntegrityError:
        session.rollback()
        winner = session.scalar(select(Payment).where(Payment.idempotency_key == key))
        if winner is None:
            raise
        return winner
    _log.info("payment intended", key=key, kind=kind.value, amount=plan.amount, tx=prepared.tx_hash)
    return payment


async def finish(session: Session, gateway: EscrowGateway, payment: Payment) -> None:
    """Send (again) the recorded transaction and settle the payment by what the chain says."""
    if payment.raw_tx is None or payment.intended_tx is None or payment.valid_until_block is None:
        raise ValueError(f"payment {payment.idempotency_key} has no recorded transaction to send")
    outcome = await gateway.outcome(payment.intended_tx)
    if outcome is None and await gateway.height() <= payment.valid_until_block:
        await gateway.send(payment.raw_tx)
        if payment.state is PaymentState.INTENDED:
            session.execute(
                update(Payment)
                .where(Payment.id == payment.id, Payment.state == PaymentState.INTENDED)
                .values(state=PaymentState.SENT)
            )
            session.commit()
        outcome = await gateway.wait(payment.intended_tx, valid_until_block=payment.valid_until_block)
    settle(session, payment, outcome)


def settle(session: Session, payment: Payment, outcome: TxOutcome | None) -> bool:
    """Close an in-flight payment from its chain outcome (None = expired, never included).

    Returns False when another finisher closed it first (nothing written here).
    """
    if outcome is None:
        final, error, block = PaymentState.VOID, "expired before inclusion", None
    elif outcome.halted:
        final, error, block = PaymentState.CONFIRMED, None, outcome.block
    else:
        final, error, block = PaymentState.FAILED, outcome.exception or "FAULT", outcome.block
    won = session.execute(
        update(Payment)
        .where(Payment.id == payment.id, Payment.state.in_(IN_FLIGHT))
        .values(state=final, error=error, block=block)
        .execution_options(synchronize_session=False)
    )
    if won.rowcount != 1:  # type: ignore[attr-defined]
        session.rollback()
        session.refresh(payment)
        return False
    plan = Plan.from_json(payment.plan)
    pending = pending_account(payment.id)
    if final is PaymentState.CONFIRMED:
        amounts = {pending: -plan.amount, **plan.destinations}
    else:
        amounts = {pending: -plan.amount, plan.source: plan.amount}
    post(
        session,
        description=f"{payment.kind} {final.value} ({payment.idempotency_key})",
        amounts=amounts,
        payment=payment,
    )
    session.commit()
    session.refresh(payment)
    _log.info("payment settled", key=payment.idempotency_key, state=final.value, tx=payment.intended_tx)
    return True


def record_observed(
    session: Session, *, key: str, kind: PaymentKind, plan: Plan, tx_hash: str, block: int
) -> Payment | None:
    """Book money that moved on chain without us sending it (a driver's deposit), once per key."""
    if session.scalar(select(Payment.id).where(Payment.idempotency_key == key)) is not None:
        return None
    payment = Payment(
        idempotency_key=key,
        request_sha256=_fingerprint(kind, plan),
        kind=kind.value,
        amount=plan.amount,
        state=PaymentState.CONFIRMED,
        intended_tx=tx_hash,
        block=block,
        plan=plan.to_json(),
    )
    try:
        session.add(payment)
        session.flush()
        post(
            session,
            description=f"{kind.value} observed ({key})",
            amounts={plan.source: -plan.amount, **plan.destinations},
            payment=payment,
        )
        session.commit()
    except IntegrityError:
        session.rollback()
        return None
    return payment

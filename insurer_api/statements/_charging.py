"""The seam between statements and money: issuing a statement asks for its charge; the payments
side executes it.

The app holds one `StatementCharger` (`app.state.statement_charger`, set by `create_app`); the
payments package provides it (`insurer_api.payments` `charge_statement` bound to the escrow
gateway). It must be idempotent per statement (the payments side keys the charge
`premium:<policy>:<period>`, which the escrow contract also refuses to charge twice), so asking
again for an already charged statement returns the same payment.

With no charger configured (no chain in this deployment) statements are issued uncharged and
say so; issuing the same month again later charges it.
"""

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import structlog
from sqlalchemy.orm import Session

from insurer_api.payments import PaymentError
from models import Payment, PaymentState, Statement

__all__ = ["ChargeOutcome", "StatementCharger", "request_charge"]

_log = structlog.get_logger(__name__)

type StatementCharger = Callable[[Session, Statement], Awaitable[Payment]]


@dataclass(frozen=True, slots=True)
class ChargeOutcome:
    """What became of a statement's charge: the payment if one exists, or why there is none."""

    payment: Payment | None
    error: str | None


def request_charge(session: Session, statement: Statement, charger: StatementCharger | None) -> ChargeOutcome:
    """Charge `statement` now (from a worker thread: runs the charger's coroutine to completion).

    A refusal (no deposit, chain down) leaves the statement issued and uncharged, and is
    reported rather than raised: the statement is correct either way, and a later request for
    the same month retries the charge under the same payment key.
    """
    if statement.payment_id is not None:
        existing = session.get(Payment, statement.payment_id)
        if existing is not None and existing.state is PaymentState.CONFIRMED:
            return ChargeOutcome(existing, None)
    if charger is None:
        return ChargeOutcome(None, "no chain is configured for charging; the statement is issued uncharged")
    try:
        payment = asyncio.run(_run(charger, session, statement))
    except PaymentError as exc:
        session.rollback()
        _log.warning("statement charge failed", statement_id=statement.id, error_type=type(exc).__name__)
        return ChargeOutcome(None, f"charge failed: {exc}")
    return ChargeOutcome(payment, None)


async def _run(charger: StatementCharger, session: Session, statement: Statement) -> Payment:
    return await charger(session, statement)

"""Premiums: the driver's deposit in escrow is charged once per statement period.

The seam with statements: whoever issues a `Statement` calls `charge_statement(session, gateway,
statement)`. The charge's key is `premium:<policy id>:<period>`, the same key the escrow refuses
to charge twice (`isCharged(policy, period)`), so a re-issued or retried statement never bills
twice. A driver's deposits are not sent by us; `record_deposit` books one when the driver (or
reconciliation) points at its transaction.
"""

from datetime import date

from sqlalchemy.orm import Session

from insurer_api.payments._chain import EscrowGateway
from insurer_api.payments._errors import PaymentError
from insurer_api.payments._ledger import deposit_account, wallet_account
from insurer_api.payments._service import PaymentKind, Plan, execute, record_observed
from models import Insurer, Payment, Policy, Statement

__all__ = ["charge_statement", "period_number", "policy_chain_id", "record_deposit"]


def policy_chain_id(*, insurer_address: str, policy_id: int) -> str:
    """The policy's id in the escrow (sent as UTF-8): unique per insurer operator, at most 64 bytes.

    Drivers name it in their deposit (`["premium", id, operator, cap, end_ms]`).
    """
    return f"{insurer_address}/{policy_id}"


def period_number(period_start: date) -> int:
    """A statement period as the escrow counts it: `YYYYMM` (e.g. 202611)."""
    return period_start.year * 100 + period_start.month


async def charge_statement(session: Session, gateway: EscrowGateway, statement: Statement) -> Payment:
    """Charge the statement's premium from the policy's deposit; links the payment to the statement."""
    policy = session.get_one(Policy, statement.policy_id)
    insurer = session.get_one(Insurer, policy.insurer_id)
    period = period_number(statement.period_start)
    payment = await execute(
        session,
        gateway,
        key=f"premium:{policy.id}:{period}",
        kind=PaymentKind.PREMIUM_CHARGE,
        plan=Plan(
            source=deposit_account(policy.id),
            destinations={wallet_account(insurer.neo_address): statement.premium},
        ),
        prepare=lambda: gateway.prepare_charge(
            operator=insurer.neo_address,
            policy_id=policy_chain_id(insurer_address=insurer.neo_address, policy_id=policy.id).encode(),
            period=period,
            amount=statement.premium,
            statement_hash=statement.statement_sha256,
        ),
    )
    if statement.payment_id != payment.id:
        statement.payment_id = payment.id
        session.commit()
    return payment


async def record_deposit(session: Session, gateway: EscrowGateway, *, policy: Policy, tx_hash: str) -> int:
    """Book the premium deposits one transaction made to `policy`; returns the amount newly booked."""
    insurer = session.get_one(Insurer, policy.insurer_id)
    outcome = await gateway.outcome(tx_hash)
    if outcome is None or not outcome.halted:
        raise PaymentError(f"transaction {tx_hash} is not a successful transaction on chain")
    chain_id = policy_chain_id(insurer_address=insurer.neo_address, policy_id=policy.id).encode()
    booked = 0
    for index, event in enumerate(outcome.events):
        if event.name != "PremiumDeposited" or event.raw("policy_id") != chain_id:
            continue
        amount = event.int("amount")
        recorded = record_observed(
            session,
            key=f"deposit:{tx_hash}:{index}",
            kind=PaymentKind.PREMIUM_DEPOSIT,
            plan=Plan(source=wallet_account(event.text("driver")), destinations={deposit_account(policy.id): amount}),
            tx_hash=tx_hash,
            block=outcome.block,
        )
        booked += amount if recorded is not None else 0
    if not any(e.name == "PremiumDeposited" and e.raw("policy_id") == chain_id for e in outcome.events):
        raise PaymentError(f"transaction {tx_hash} deposits nothing for policy {policy.id}")
    return booked

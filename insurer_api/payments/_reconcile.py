"""Reconciliation: the ledger against the chain, after a crash or on a schedule.

1. **In flight.** Every payment still `intended` or `sent` is finished: if its transaction is on
   chain it is confirmed (or failed, if it FAULTed); if not and it is still valid, the very same
   signed bytes are sent again and awaited; if its last valid block has passed unseen it is
   voided. Nothing is ever re-signed, so nothing can be paid twice.
   Repair jobs and statements whose payment settled this way are brought up to date.
2. **Observed.** Premium deposits and withdrawals drivers made for our policies are booked.
3. **Compared.** Each escrow account of the ledger is compared with the escrow contract's own
   storage (`getJob`, `getPolicy`), each wallet account with the net flow the escrow's events
   show for that address, every confirmed payment with its transaction (there, and HALT), and
   every pending account must be zero. Each disagreement is one `Difference`.
"""

from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from insurer_api.payments._chain import JOB_LOCKED, ChainEvent, EscrowGateway
from insurer_api.payments._ledger import balances, deposit_account, job_account, wallet_account
from insurer_api.payments._premiums import period_number, policy_chain_id
from insurer_api.payments._service import IN_FLIGHT, PaymentKind, Plan, finish, record_observed
from models import Insurer, Payment, PaymentState, Policy, RepairJob, Statement

__all__ = ["Action", "Difference", "ReconcileReport", "reconcile"]


@dataclass(frozen=True, slots=True)
class Action:
    """Something reconciliation did: a payment settled, a deposit booked."""

    subject: str
    result: str


@dataclass(frozen=True, slots=True)
class Difference:
    """The ledger and the chain disagree about `subject`."""

    subject: str
    ledger: int | str
    chain: int | str
    note: str


@dataclass(slots=True)
class ReconcileReport:
    actions: list[Action] = field(default_factory=list)
    differences: list[Difference] = field(default_factory=list)
    accounts_checked: int = 0
    payments_checked: int = 0

    @property
    def clean(self) -> bool:
        return not self.differences

    def to_json(self) -> dict[str, object]:
        return {
            "clean": self.clean,
            "accounts_checked": self.accounts_checked,
            "payments_checked": self.payments_checked,
            "actions": [{"subject": a.subject, "result": a.result} for a in self.actions],
            "differences": [
                {"subject": d.subject, "ledger": d.ledger, "chain": d.chain, "note": d.note} for d in self.differences
            ],
        }


async def reconcile(session: Session, gateway: EscrowGateway, *, exclusive_escrow: bool = False) -> ReconcileReport:
    """Finish what is in flight, book what drivers did, then report every difference.

    With `exclusive_escrow` (this ledger is the escrow contract's only user, as in a production
    deployment) the NEOT the escrow holds must also equal the sum of the ledger's escrow accounts.
    """
    report = ReconcileReport()
    for payment in session.scalars(select(Payment).where(Payment.state.in_(IN_FLIGHT)).order_by(Payment.id)):
        before = payment.state.value
        await finish(session, gateway, payment)
        report.actions.append(Action(payment.idempotency_key, f"{before} → {payment.state.value}"))

    _sync_records(session, report)

    events = await gateway.escrow_events()
    policies = _policy_ids(session)
    _book_driver_flows(session, events, policies, report)

    ledger = balances(session)
    chain_wallets = _wallet_flows(session, events, policies)
    for job in session.scalars(select(RepairJob)):
        name = job_account(job.chain_job_id)
        on_chain = await gateway.job(job.chain_job_id.encode())
        held = on_chain.amount if on_chain is not None and on_chain.state == JOB_LOCKED else 0
        _compare(report, name, ledger.pop(name, 0), held, "escrow job record")
    for policy_id, chain_id in policies.items():
        name = deposit_account(policy_id)
        _compare(report, name, ledger.pop(name, 0), await gateway.deposit_balance(chain_id), "escrow deposit")
    for name, amount in sorted(ledger.items()):
        if name.startswith("wallet:"):
            _compare(report, name, amount, chain_wallets.pop(name, 0), "net flow in escrow events")
        elif name.startswith("pending:"):
            _compare(report, name, amount, 0, "money still in flight")
        else:
            _compare(report, name, amount, 0, "escrow account with no record in the database")
    for name, amount in sorted(chain_wallets.items()):
        _compare(report, name, 0, amount, "escrow events move NEOT the ledger does not know of")
    if exclusive_escrow:
        held = sum(amount for name, amount in balances(session, prefix="escrow:").items())
        _compare(
            report,
            f"escrow contract {gateway.escrow_address}",
            held,
            await gateway.balance_of(gateway.escrow_address),
            "all NEOT the escrow holds",
        )

    for payment in session.scalars(select(Payment).where(Payment.state == PaymentState.CONFIRMED)):
        report.payments_checked += 1
        if payment.intended_tx is None:
            report.differences.append(Difference(payment.idempotency_key, "confirmed", "?", "no transaction recorded"))
            continue
        outcome = await gateway.outcome(payment.intended_tx)
        if outcome is None or not outcome.halted:
            report.differences.append(
                Difference(
                    payment.idempotency_key,
                    "confirmed",
                    "missing" if outcome is None else "FAULT",
                    f"transaction {payment.intended_tx}",
                )
            )
    for payment in session.scalars(select(Payment).where(Payment.state.in_(IN_FLIGHT))):
        report.differences.append(Difference(payment.idempotency_key, payment.state.value, "?", "still in flight"))
    return report


def _sync_records(session: Session, report: ReconcileReport) -> None:
    """Bring repair jobs and statements up to date with payments settled after a crash.

    The payment is the truth: a job whose lock was confirmed is locked, whose release was
    confirmed is paid (amounts from the payment's plan), whose refund was confirmed is refunded;
    a lock that was voided or failed leaves the job failed. A statement points at its charge.
    """
    # repair depends on payments, not the other way round: its job bookkeeping is reached lazily
    from insurer_api.repair import sync_jobs

    for job_id, before, after in sync_jobs(session):
        report.actions.append(Action(f"repair job {job_id}", f"{before.value} → {after.value}"))
    payments = {
        p.idempotency_key: p
        for p in session.scalars(
            select(Payment).where(
                Payment.idempotency_key.startswith("premium:"), Payment.state == PaymentState.CONFIRMED
            )
        )
    }
    for statement in session.scalars(select(Statement).where(Statement.payment_id.is_(None))):
        key = f"premium:{statement.policy_id}:{period_number(statement.period_start)}"
        charge = payments.get(key)
        if charge is not None and charge.state is PaymentState.CONFIRMED:
            statement.payment_id = charge.id
            report.actions.append(Action(f"statement {statement.id}", f"linked to payment {charge.id}"))
    session.commit()


def _compare(report: ReconcileReport, subject: str, ledger: int, chain: int, note: str) -> None:
    report.accounts_checked += 1
    if ledger != chain:
        report.differences.append(Difference(subject, ledger, chain, note))


def _policy_ids(session: Session) -> dict[int, bytes]:
    rows = session.execute(select(Policy.id, Insurer.neo_address).join(Insurer, Insurer.id == Policy.insurer_id))
    return {pid: policy_chain_id(insurer_address=addr, policy_id=pid).encode() for pid, addr in rows}


def _book_driver_flows(
    session: Session, events: list[ChainEvent], policies: dict[int, bytes], report: ReconcileReport
) -> None:
    by_chain_id = {chain_id: pid for pid, chain_id in policies.items()}
    seen: dict[str, int] = defaultdict(int)
    for event in events:
        index = seen[event.tx_hash]
        seen[event.tx_hash] += 1
        if event.name not in ("PremiumDeposited", "PremiumWithdrawn"):
            continue
        policy_id = by_chain_id.get(event.raw("policy_id"))
        if policy_id is None:
            continue
        driver, deposit = wallet_account(event.text("driver")), deposit_account(policy_id)
        amount = event.int("amount")
        if event.name == "PremiumDeposited":
            plan = Plan(source=driver, destinations={deposit: amount})
            kind = PaymentKind.PREMIUM_DEPOSIT
        else:
            plan = Plan(source=deposit, destinations={driver: amount})
            kind = PaymentKind.PREMIUM_WITHDRAWAL
        key = f"{'deposit' if kind is PaymentKind.PREMIUM_DEPOSIT else 'withdrawal'}:{event.tx_hash}:{index}"
        if record_observed(session, key=key, kind=kind, plan=plan, tx_hash=event.tx_hash, block=event.block):
            report.actions.append(Action(key, f"booked {amount}"))


def _wallet_flows(session: Session, events: list[ChainEvent], policies: dict[int, bytes]) -> dict[str, int]:
    """Net NEOT each address moved through escrow for our jobs and policies, from events alone."""
    our_jobs = {cid.encode() for cid in session.scalars(select(RepairJob.chain_job_id))}
    our_policies = set(policies.values())
    flows: dict[str, int] = defaultdict(int)
    for ev in events:
        if ev.name.startswith("Job") and ev.raw("job_id") not in our_jobs:
            continue
        if ev.name.startswith("Premium") and ev.raw("policy_id") not in our_policies:
            continue
        match ev.name:
            case "JobLocked":
                flows[wallet_account(ev.text("insurer"))] -= ev.int("amount")
            case "JobReleased":
                flows[wallet_account(ev.text("shop"))] += ev.int("shop_amount")
                flows[wallet_account(ev.text("royalty_account"))] += ev.int("royalty_amount")
                flows[wallet_account(ev.text("insurer"))] += ev.int("returned_amount")
            case "JobRefunded":
                flows[wallet_account(ev.text("insurer"))] += ev.int("amount")
            case "PremiumDeposited":
                flows[wallet_account(ev.text("driver"))] -= ev.int("amount")
            case "PremiumCharged":
                flows[wallet_account(ev.text("operator"))] += ev.int("amount")
            case "PremiumWithdrawn":
                flows[wallet_account(ev.text("driver"))] += ev.int("amount")
    return {name: amount for name, amount in flows.items() if amount}

"""Repair jobs, payments and the double-entry ledger. Every amount is NEOT base units (10^-8 NEOT)."""

from datetime import datetime
from enum import StrEnum

from sqlalchemy import JSON, ForeignKey, LargeBinary, String, event
from sqlalchemy.orm import Mapped, Session, UOWTransaction, mapped_column, relationship

from models._base import Base, str_enum, utcnow

__all__ = [
    "JobState",
    "JournalEntry",
    "LedgerAccount",
    "Payment",
    "PaymentState",
    "Posting",
    "RepairJob",
    "UnbalancedEntryError",
]


class JobState(StrEnum):
    """A repair job's life, the NEOT PDNE service: negotiated, funded, worked, evaluated."""

    OPENED = "opened"
    ASSIGNED = "assigned"
    LOCKED = "locked"
    INVOICED = "invoiced"
    COMPLETED = "completed"
    PAID = "paid"
    FAILED = "failed"
    REFUNDED = "refunded"


class RepairJob(Base):
    """A repair opened by a trouble code or a claim; funds are frozen in escrow when it is created."""

    __tablename__ = "repair_jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    policy_id: Mapped[int] = mapped_column(ForeignKey("policies.id"), index=True)
    shop_id: Mapped[int | None] = mapped_column(ForeignKey("repair_shops.id"), index=True)
    service: Mapped[str] = mapped_column(String(64))
    dtc: Mapped[str | None] = mapped_column(String(8))
    state: Mapped[JobState] = mapped_column(str_enum(JobState), default=JobState.OPENED)
    authorised_amount: Mapped[int]
    invoice_amount: Mapped[int | None]
    shop_amount: Mapped[int | None]
    royalty_amount: Mapped[int | None]
    # The job's id in the escrow contract (hex of 16 random bytes), so that several databases (or a
    # restored backup) sharing one chain never collide on a job id the contract has already settled.
    chain_job_id: Mapped[str] = mapped_column(String(32), unique=True)
    opened_by: Mapped[str] = mapped_column(String(16))
    royalty_address: Mapped[str | None] = mapped_column(String(34))
    # Every public input of Negotiation and its outcome, so `neot repair explain` can recompute it.
    negotiation: Mapped[dict[str, object] | None] = mapped_column(JSON)
    outcome_reason: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class PaymentState(StrEnum):
    """`intended` is written before the transaction is sent; reconciliation finishes or voids it."""

    INTENDED = "intended"
    SENT = "sent"
    CONFIRMED = "confirmed"
    FAILED = "failed"
    VOID = "void"


class Payment(Base):
    """One movement of NEOT on chain, done at most once per idempotency key."""

    __tablename__ = "payments"

    id: Mapped[int] = mapped_column(primary_key=True)
    idempotency_key: Mapped[str] = mapped_column(String(200), unique=True)
    request_sha256: Mapped[bytes] = mapped_column(LargeBinary(32))
    kind: Mapped[str] = mapped_column(String(32))
    amount: Mapped[int]
    state: Mapped[PaymentState] = mapped_column(str_enum(PaymentState), default=PaymentState.INTENDED)
    intended_tx: Mapped[str | None] = mapped_column(String(66))
    # The signed transaction itself: after a crash the very same bytes (same hash) are re-sent, so the
    # chain includes them at most once; past `valid_until_block` they can never be included.
    raw_tx: Mapped[bytes | None] = mapped_column(LargeBinary)
    valid_until_block: Mapped[int | None]
    # Ledger plan: the account the amount leaves and the accounts it reaches once confirmed.
    plan: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)
    error: Mapped[str | None] = mapped_column(String(500))
    block: Mapped[int | None]
    response: Mapped[dict[str, object] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class LedgerAccount(Base):
    """A ledger account, e.g. `driver:7:deposit`, `insurer:1:escrow`, `shop:3:payable`."""

    __tablename__ = "ledger_accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    neo_address: Mapped[str | None] = mapped_column(String(34))


class JournalEntry(Base):
    """One balanced transaction of the ledger: its postings sum to zero."""

    __tablename__ = "journal_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payments.id"), index=True)
    description: Mapped[str] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    postings: Mapped[list["Posting"]] = relationship(back_populates="entry", cascade="all, delete-orphan")


class Posting(Base):
    """A signed amount on one account: positive debits it, negative credits it."""

    __tablename__ = "postings"

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("journal_entries.id"), index=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("ledger_accounts.id"), index=True)
    amount: Mapped[int]

    entry: Mapped[JournalEntry] = relationship(back_populates="postings")


class UnbalancedEntryError(ValueError):
    """A journal entry whose postings do not sum to zero was about to be written."""


@event.listens_for(Session, "before_flush")
def _check_balanced(session: Session, flush_context: UOWTransaction, instances: object) -> None:
    """Refuse to flush any new or changed journal entry whose postings do not sum to zero."""
    entries = {obj for obj in (*session.new, *session.dirty) if isinstance(obj, JournalEntry)}
    entries |= {obj.entry for obj in (*session.new, *session.dirty, *session.deleted) if isinstance(obj, Posting)}
    for entry in entries:
        if entry in session.deleted:
            continue
        total = sum(p.amount for p in entry.postings if p not in session.deleted)
        if total != 0 or not entry.postings:
            raise UnbalancedEntryError(f"journal entry {entry.description!r} does not balance: postings sum to {total}")

"""The double-entry ledger: named accounts, balanced journal entries, balances.

Every account mirrors one place NEOT sits on chain, so each ledger balance can be compared with
the chain (see `_reconcile.py`). Postings are signed: positive adds to an account, negative takes
away, and each entry sums to zero (enforced by `models` at flush).

Accounts:

- `escrow:job:<chain job id>`: the authorisation locked in escrow for one repair job;
- `escrow:deposit:<policy id>`: a driver's premium deposit held by escrow for one policy;
- `wallet:<NEO address>`: the net NEOT an address has received from (or paid into) escrow
  through NEOT — insurers, shops, royalty accounts, drivers;
- `pending:payment:<id>`: money between "intended" and "confirmed"; zero when nothing is in flight.
"""

from collections.abc import Mapping

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models import JournalEntry, LedgerAccount, Payment, Posting

__all__ = [
    "account",
    "balance",
    "balances",
    "deposit_account",
    "job_account",
    "pending_account",
    "post",
    "wallet_account",
]


def job_account(chain_job_id: str) -> str:
    return f"escrow:job:{chain_job_id}"


def deposit_account(policy_id: int) -> str:
    return f"escrow:deposit:{policy_id}"


def wallet_account(neo_address: str) -> str:
    return f"wallet:{neo_address}"


def pending_account(payment_id: int) -> str:
    return f"pending:payment:{payment_id}"


def account(session: Session, name: str) -> LedgerAccount:
    """The account called `name`, created on first use."""
    found = session.scalar(select(LedgerAccount).where(LedgerAccount.name == name))
    if found is not None:
        return found
    address = name.removeprefix("wallet:") if name.startswith("wallet:") else None
    try:
        with session.begin_nested():  # a concurrent writer may create the same account first
            created = LedgerAccount(name=name, neo_address=address)
            session.add(created)
    except IntegrityError:
        return session.scalars(select(LedgerAccount).where(LedgerAccount.name == name)).one()
    return created


def post(
    session: Session, *, description: str, amounts: Mapping[str, int], payment: Payment | None = None
) -> JournalEntry:
    """Write one balanced entry; zero amounts are dropped, an unbalanced entry is refused at flush."""
    entry = JournalEntry(description=description, payment_id=payment.id if payment else None)
    for name, amount in sorted(amounts.items()):
        if amount:
            entry.postings.append(Posting(account_id=account(session, name).id, amount=amount))
    session.add(entry)
    session.flush()
    return entry


def balance(session: Session, name: str) -> int:
    """Sum of every posting on the account (0 for an account never used)."""
    total = session.scalar(
        select(func.coalesce(func.sum(Posting.amount), 0))
        .join(LedgerAccount, LedgerAccount.id == Posting.account_id)
        .where(LedgerAccount.name == name)
    )
    return int(total or 0)


def balances(session: Session, *, prefix: str = "") -> dict[str, int]:
    """Every account's balance, optionally only those whose name starts with `prefix`."""
    rows = session.execute(
        select(LedgerAccount.name, func.coalesce(func.sum(Posting.amount), 0))
        .outerjoin(Posting, Posting.account_id == LedgerAccount.id)
        .where(LedgerAccount.name.startswith(prefix))
        .group_by(LedgerAccount.name)
    )
    return {name: int(total) for name, total in rows}

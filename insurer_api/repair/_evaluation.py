"""Evaluation: how the frozen funds of a finished job are split. Pure integer arithmetic.

A **senior** shop (at least `SENIOR_MIN_JOBS` settled jobs on chain and a plain success rate of at
least `SENIOR_MIN_RATE`) receives 95 % of the invoice; a new or weaker shop 90 %. The shop's share is
rounded down to a base unit, so the product author's royalty (the rest of the invoice) never
loses a unit to rounding. What the invoice did not use of the authorisation returns to the insurer.
"""

from dataclasses import dataclass
from fractions import Fraction

from insurer_api.repair._negotiation import TrackRecord

__all__ = [
    "NEW_SHOP_SHARE",
    "SENIOR_MIN_JOBS",
    "SENIOR_MIN_RATE",
    "SENIOR_SHOP_SHARE",
    "InvoiceTooHighError",
    "Split",
    "is_senior",
    "split_payout",
]

SENIOR_MIN_JOBS = 20
SENIOR_MIN_RATE = Fraction(90, 100)
SENIOR_SHOP_SHARE = Fraction(95, 100)
NEW_SHOP_SHARE = Fraction(90, 100)


class InvoiceTooHighError(ValueError):
    """The invoice is above the authorised amount (or not positive): it cannot be paid from escrow."""


def is_senior(record: TrackRecord) -> bool:
    """≥ 20 settled jobs and ≥ 90 % of them successful, as rebuilt from chain events."""
    return record.jobs >= SENIOR_MIN_JOBS and record.raw_rate >= SENIOR_MIN_RATE


@dataclass(frozen=True, slots=True)
class Split:
    """Where every base unit of the locked authorisation goes; the three parts sum to it."""

    senior: bool
    shop_amount: int
    royalty_amount: int
    insurer_refund: int

    @property
    def total(self) -> int:
        return self.shop_amount + self.royalty_amount + self.insurer_refund


def split_payout(*, invoice_amount: int, authorised_amount: int, record: TrackRecord) -> Split:
    """Split `authorised_amount` into shop share, royalty and refund for an `invoice_amount` bill."""
    if invoice_amount <= 0:
        raise InvoiceTooHighError(f"invoice must be positive, got {invoice_amount}")
    if invoice_amount > authorised_amount:
        raise InvoiceTooHighError(f"invoice {invoice_amount} is above the authorised amount {authorised_amount}")
    senior = is_senior(record)
    share = SENIOR_SHOP_SHARE if senior else NEW_SHOP_SHARE
    shop_amount = invoice_amount * share.numerator // share.denominator
    return Split(
        senior=senior,
        shop_amount=shop_amount,
        royalty_amount=invoice_amount - shop_amount,
        insurer_refund=authorised_amount - invoice_amount,
    )

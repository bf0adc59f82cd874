"""Monthly premiums in the product definition's terms: base premium x risk factor, floor, cap."""

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import TYPE_CHECKING

from scoring_service.products import Product
from scoring_service.risk._features import DriverFeatures, features_from_totals
from scoring_service.risk._model import RiskModel

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

__all__ = ["Premium", "monthly_premium", "premium_for_period", "price_driver"]


@dataclass(frozen=True, slots=True)
class Premium:
    """A priced month and everything needed to recompute it: product, model and factor."""

    amount: int  # NEOT base units
    base_premium: int
    factor: Decimal
    product_id: str
    product_version: int
    model_version: int
    model_sha256: str
    clamped: bool


def monthly_premium(product: Product, factor: Decimal) -> tuple[int, bool]:
    """`base_premium * factor` rounded half-even to a base unit, clamped to the product's floor
    and cap; also whether the clamp applied."""
    p = product.pricing
    raw = int((Decimal(p.base_premium) * factor).to_integral_value(rounding=ROUND_HALF_EVEN))
    amount = min(max(raw, p.floor), p.cap)
    return amount, amount != raw


def price_driver(product: Product, model: RiskModel, features: DriverFeatures) -> Premium:
    """The month's premium for a driver's features under a product and a fitted model."""
    factor = model.factor(features)
    amount, clamped = monthly_premium(product, factor)
    return Premium(
        amount=amount,
        base_premium=product.pricing.base_premium,
        factor=factor,
        product_id=product.id,
        product_version=product.version,
        model_version=model.version,
        model_sha256=model.sha256,
        clamped=clamped,
    )


def premium_for_period(
    session: "Session", *, driver_id: int, product: Product, model: RiskModel, start: datetime, end: datetime
) -> tuple[Premium, DriverFeatures]:
    """Price a driver for a statement period from their stored trips in `[start, end)`: the
    features it was priced on come back too, so a statement can show and hash them."""
    from scoring_service.scoring import driver_totals

    totals = driver_totals(session, driver_id=driver_id, start=start, end=end)
    days = max((end - start).total_seconds() / 86_400, 1.0)
    features = features_from_totals(totals, days)
    return price_driver(product, model, features), features

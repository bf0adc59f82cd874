"""Monthly premiums in the product definition's terms: base premium x risk factor, floor, cap."""

from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal

from scoring_service.products import Product
from scoring_service.risk._features import DriverFeatures
from scoring_service.risk._model import RiskModel

__all__ = ["Premium", "monthly_premium", "price_driver"]


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

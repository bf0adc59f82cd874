"""Insurance product definitions (the NEOT "Definition"): thresholds, weights and pricing."""

from scoring_service.products._definition import (
    Detectors,
    DetectorThresholds,
    NightWindow,
    Pricing,
    Product,
    SpeedingThresholds,
    TripThresholds,
    Weights,
    available_products,
    load_product,
    load_product_file,
)

__all__ = [
    "DetectorThresholds",
    "Detectors",
    "NightWindow",
    "Pricing",
    "Product",
    "SpeedingThresholds",
    "TripThresholds",
    "Weights",
    "available_products",
    "load_product",
    "load_product_file",
]

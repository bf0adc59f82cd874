"""A synthetic insurance portfolio with known claim-generating coefficients.

No real claims data can be shipped, so the risk model is fitted and tested on a portfolio drawn
from stated assumptions. Every number here is an assumption, chosen to look like a European
private-car book, not a measurement:

- annual mileage: log-normal around 12,000 km (sigma 0.5 in log space);
- harsh brakes / accelerations / corners per 100 km: gamma with means 2.0 / 1.5 / 1.0 (careful
  drivers near 0, a long tail of aggressive ones);
- speeding share of driving time: beta(1.5, 20), mean ~7 %; night share: beta(1, 30), mean ~3 %;
- exposure: uniform 0.25-1.0 policy years;
- claim count ~ Poisson(exposure * exp(intercept + coefficients . features)) with the
  `TRUE_COEFFICIENTS` below (base frequency 6 % a year for a reference driver);
- claim amount per claim ~ gamma(shape 2) with mean 3,000 NEOT (severity independent of features).
"""

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from scoring_service.risk._features import FEATURE_NAMES, REFERENCE_ANNUAL_KM

__all__ = ["TRUE_COEFFICIENTS", "TRUE_INTERCEPT", "Portfolio", "synthetic_portfolio"]

TRUE_INTERCEPT = float(np.log(0.06))
TRUE_COEFFICIENTS: dict[str, float] = {
    "harsh_brakes_per_100km": 0.10,
    "harsh_accels_per_100km": 0.06,
    "harsh_corners_per_100km": 0.08,
    "speeding_share": 2.5,
    "night_share": 4.0,
    "log_annual_km": 0.6,
}
MEAN_SEVERITY_BASE_UNITS = 3_000 * 100_000_000


@dataclass(frozen=True, slots=True, eq=False)
class Portfolio:
    """Policies with features, exposure (years), claim counts and total claim amounts (base units)."""

    policy: npt.NDArray[np.int64]
    features: npt.NDArray[np.float64]  # columns in FEATURE_NAMES order
    exposure: npt.NDArray[np.float64]
    claim_count: npt.NDArray[np.int64]
    amount: npt.NDArray[np.int64]


def synthetic_portfolio(n_policies: int, *, seed: int = 0) -> Portfolio:
    """Draw a portfolio under the module's stated assumptions (reproducible for a seed)."""
    rng = np.random.default_rng(seed)
    annual_km = rng.lognormal(np.log(12_000), 0.5, n_policies)
    features = np.column_stack(
        [
            rng.gamma(2.0, 1.0, n_policies),
            rng.gamma(2.0, 0.75, n_policies),
            rng.gamma(2.0, 0.5, n_policies),
            rng.beta(1.5, 20, n_policies),
            rng.beta(1.0, 30, n_policies),
            np.log(annual_km / REFERENCE_ANNUAL_KM),
        ]
    )
    exposure = rng.uniform(0.25, 1.0, n_policies)
    beta = np.array([TRUE_COEFFICIENTS[name] for name in FEATURE_NAMES])
    frequency = np.exp(TRUE_INTERCEPT + features @ beta)
    counts = rng.poisson(exposure * frequency)
    shape = 2.0
    amount = np.array(
        [int(rng.gamma(shape, MEAN_SEVERITY_BASE_UNITS / shape, c).sum()) if c else 0 for c in counts], dtype=np.int64
    )
    return Portfolio(
        policy=np.arange(1, n_policies + 1, dtype=np.int64),
        features=features,
        exposure=exposure,
        claim_count=counts.astype(np.int64),
        amount=amount,
    )

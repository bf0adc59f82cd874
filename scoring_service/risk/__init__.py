"""The actuarial risk model: rating features, a synthetic portfolio, a Poisson claim-frequency
GLM with exposure (optional Gamma severity), model files with SHA-256, and monthly pricing."""

from scoring_service.risk._features import FEATURE_NAMES, DriverFeatures, features_from_totals
from scoring_service.risk._model import (
    MAX_FACTOR,
    RiskModel,
    SeverityModel,
    fit_risk_model,
    latest_model,
    load_model,
    save_model,
)
from scoring_service.risk._pricing import Premium, monthly_premium, premium_for_period, price_driver
from scoring_service.risk._synthetic import TRUE_COEFFICIENTS, TRUE_INTERCEPT, Portfolio, synthetic_portfolio
from scoring_service.risk._tables import (
    Claims,
    features_for_policies,
    join_features,
    read_claims_csv,
    read_features_csv,
    write_portfolio_csvs,
)

__all__ = [
    "FEATURE_NAMES",
    "MAX_FACTOR",
    "TRUE_COEFFICIENTS",
    "TRUE_INTERCEPT",
    "Claims",
    "DriverFeatures",
    "Portfolio",
    "Premium",
    "RiskModel",
    "SeverityModel",
    "features_for_policies",
    "features_from_totals",
    "fit_risk_model",
    "join_features",
    "latest_model",
    "load_model",
    "monthly_premium",
    "premium_for_period",
    "price_driver",
    "read_claims_csv",
    "read_features_csv",
    "save_model",
    "synthetic_portfolio",
    "write_portfolio_csvs",
]

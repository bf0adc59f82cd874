"""The risk model: a real Poisson fit recovers the coefficients that generated a portfolio."""

import hashlib
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

from scoring_service.errors import RiskModelError
from scoring_service.products import load_product
from scoring_service.risk import (
    FEATURE_NAMES,
    MAX_FACTOR,
    TRUE_COEFFICIENTS,
    TRUE_INTERCEPT,
    DriverFeatures,
    fit_risk_model,
    join_features,
    latest_model,
    load_model,
    monthly_premium,
    price_driver,
    read_claims_csv,
    read_features_csv,
    save_model,
    synthetic_portfolio,
    write_portfolio_csvs,
)

PRODUCT = load_product("standard", 1)


@pytest.fixture(scope="module")
def fitted() -> tuple:
    portfolio = synthetic_portfolio(200_000, seed=7)
    model = fit_risk_model(
        portfolio.features, portfolio.exposure, portfolio.claim_count, version=1, amount=portfolio.amount
    )
    return portfolio, model


def test_the_synthetic_truth_names_every_rating_feature_in_model_order() -> None:
    """The generator multiplies its coefficients in dict order against the feature columns."""
    assert tuple(TRUE_COEFFICIENTS) == FEATURE_NAMES


def test_fit_recovers_the_generating_coefficients(fitted: tuple) -> None:
    """Tolerance: every coefficient within 4 standard errors of the truth (standard errors from the
    Fisher information of the fitted GLM), and within these absolute bounds for 200,000 policies."""
    portfolio, model = fitted
    x = np.column_stack([np.ones(len(portfolio.exposure)), portfolio.features])
    beta = np.array([model.intercept, *model.coefficients])
    mu = portfolio.exposure * np.exp(x @ beta)
    se = np.sqrt(np.diag(np.linalg.inv(x.T @ (x * mu[:, None]))))
    truth = np.array([TRUE_INTERCEPT, *(TRUE_COEFFICIENTS[n] for n in FEATURE_NAMES)])
    assert np.all(np.abs(beta - truth) <= 4 * se), (beta - truth) / se
    bounds = {
        "intercept": 0.1,
        "harsh_brakes_per_100km": 0.02,
        "harsh_accels_per_100km": 0.03,
        "harsh_corners_per_100km": 0.04,
        "speeding_share": 0.5,
        "night_share": 1.0,
        "log_annual_km": 0.06,
    }
    for name, fitted_value, true_value in zip(bounds, beta, truth, strict=True):
        assert abs(fitted_value - true_value) <= bounds[name], name


def test_severity_is_fitted_and_independent_of_features(fitted: tuple) -> None:
    _, model = fitted
    assert model.severity is not None
    # the generator draws severity with mean 3,000 NEOT regardless of features
    assert abs(model.severity.intercept - np.log(3_000 * 10**8)) < 0.2
    assert np.all(np.abs(model.severity.coefficients[:3]) < 0.05)


def test_saved_model_has_its_sha256_and_round_trips(fitted: tuple, tmp_path: Path) -> None:
    _, model = fitted
    path = save_model(model, tmp_path)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == model.sha256
    assert path.name == f"risk-model-v1-{model.sha256[:12]}.json"
    again = load_model(path, expected_sha256=model.sha256)
    assert again == model
    assert latest_model(tmp_path) == model


def test_a_tampered_model_is_refused(fitted: tuple, tmp_path: Path) -> None:
    _, model = fitted
    path = save_model(model, tmp_path)
    path.write_bytes(path.read_bytes().replace(b'"version":1', b'"version":2'))
    with pytest.raises(RiskModelError, match="SHA-256"):
        load_model(path, expected_sha256=model.sha256)
    path.write_bytes(path.read_bytes().replace(b'{"coefficients"', b'{ "coefficients"'))
    with pytest.raises(RiskModelError, match="canonical"):
        load_model(path)


def test_premium_factor_is_one_for_the_reference_driver_and_grows_with_risk(fitted: tuple) -> None:
    _, model = fitted
    reference = DriverFeatures(*model.reference)
    assert model.factor(reference) == Decimal("1.0000")
    risky = DriverFeatures(*[v * 2 for v in model.reference[:5]], model.reference[5])
    assert model.factor(risky) > Decimal("1.2")
    # the factor is the modelled frequency ratio
    ratio = model.frequency(risky) / model.frequency(reference)
    assert float(model.factor(risky)) == pytest.approx(ratio, abs=1e-4)


def test_an_extreme_driver_gets_the_bounded_factor_and_the_capped_premium(fitted: tuple) -> None:
    _, model = fitted
    extreme = DriverFeatures(900.0, 900.0, 900.0, 1.0, 1.0, model.reference[5])
    assert model.factor(extreme) == Decimal(MAX_FACTOR)
    assert price_driver(PRODUCT, model, extreme).amount == PRODUCT.pricing.cap
    careful = DriverFeatures(0.0, 0.0, 0.0, 0.0, 0.0, model.reference[5])
    assert Decimal("0") < model.factor(careful) < Decimal("1")


def test_pricing_uses_base_floor_and_cap_of_the_product(fitted: tuple) -> None:
    _, model = fitted
    base = PRODUCT.pricing.base_premium
    assert monthly_premium(PRODUCT, Decimal("1.2345")) == (base * 12345 // 10000, False)
    assert monthly_premium(PRODUCT, Decimal("0.01")) == (PRODUCT.pricing.floor, True)
    assert monthly_premium(PRODUCT, Decimal("99")) == (PRODUCT.pricing.cap, True)
    premium = price_driver(PRODUCT, model, DriverFeatures(*model.reference))
    assert premium.amount == base and premium.factor == Decimal("1.0000")
    assert (premium.model_version, premium.model_sha256) == (1, model.sha256)
    assert (premium.product_id, premium.product_version) == ("standard", 1)


def test_portfolio_csvs_round_trip_and_refit_identically(tmp_path: Path) -> None:
    portfolio = synthetic_portfolio(3000, seed=3)
    claims_path, features_path = write_portfolio_csvs(portfolio, tmp_path)
    claims = read_claims_csv(claims_path)
    features = join_features(claims, read_features_csv(features_path))
    assert np.array_equal(features, portfolio.features)
    a = fit_risk_model(features, claims.exposure, claims.claim_count, version=1)
    b = fit_risk_model(portfolio.features, portfolio.exposure, portfolio.claim_count, version=1)
    assert a.sha256 == b.sha256


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("policy,exposure,claim_count\n1,1.0,0\n", "header lacks amount"),
        ("policy,exposure,claim_count,amount\n1,0,0,0\n", "exposure must be > 0"),
        ("policy,exposure,claim_count,amount\n1,1.0,x,0\n", "line 2"),
        ("policy,exposure,claim_count,amount\n1,1.0,0,0\n1,1.0,0,0\n", "more than once"),
    ],
)
def test_bad_claims_tables_are_refused(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "claims.csv"
    path.write_text(content)
    with pytest.raises(RiskModelError, match=message):
        read_claims_csv(path)


def test_a_portfolio_without_claims_cannot_be_fitted() -> None:
    portfolio = synthetic_portfolio(100, seed=1)
    with pytest.raises(RiskModelError, match="no claims"):
        fit_risk_model(portfolio.features, portfolio.exposure, np.zeros(100, dtype=np.int64), version=1)

"""The claim-frequency model: a Poisson GLM with a log link and exposure, fitted by scikit-learn.

    claims ~ Poisson(exposure * exp(intercept + coefficients . features))

scikit-learn's `PoissonRegressor` fits this when given y = claims / exposure and
sample_weight = exposure. Severity (mean cost per claim) is optional: a Gamma GLM
(`TweedieRegressor(power=2)`) on the policies that claimed, weighted by their claim count.

A fitted model is saved as canonical JSON (floats as their exact `repr` strings), identified by
its SHA-256 and a version number, and read back without pickle. Prediction is plain numpy with
the stored coefficients, so a premium can be recomputed from the file alone.
"""

import hashlib
import math
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path

import numpy as np
import numpy.typing as npt

from protocol import canonical_json, parse_json
from scoring_service.errors import RiskModelError
from scoring_service.risk._features import FEATURE_NAMES, DriverFeatures

__all__ = [
    "FORMAT",
    "MAX_FACTOR",
    "RiskModel",
    "SeverityModel",
    "fit_risk_model",
    "latest_model",
    "load_model",
    "save_model",
]

FORMAT = "neot-risk-model/1"
#: premium factors are rounded to this many decimal places, so every machine prices alike
FACTOR_PLACES = Decimal("0.0001")
#: factors are held within [1/MAX_FACTOR, MAX_FACTOR]: a driver with hundreds of events per 100 km
#: would otherwise get exp(large) with more digits than a Decimal context holds, and the product's
#: premium cap binds long before this bound does
MAX_FACTOR = 1_000_000


@dataclass(frozen=True, slots=True)
class SeverityModel:
    """Mean cost per claim, NEOT base units: exp(intercept + coefficients . features)."""

    intercept: float
    coefficients: tuple[float, ...]


@dataclass(frozen=True, slots=True)
class RiskModel:
    """A fitted claim-frequency model (and optional severity model) with its provenance."""

    version: int
    features: tuple[str, ...]
    intercept: float
    coefficients: tuple[float, ...]
    #: exposure-weighted mean features of the training portfolio: the driver with factor 1.0
    reference: tuple[float, ...]
    policies: int
    exposure_years: float
    claims: int
    severity: SeverityModel | None = None

    def document(self) -> dict[str, object]:
        """The model as a JSON document (floats as exact decimal strings)."""
        return {
            "format": FORMAT,
            "version": self.version,
            "kind": "poisson_claim_frequency",
            "features": list(self.features),
            "intercept": repr(self.intercept),
            "coefficients": [repr(c) for c in self.coefficients],
            "reference": [repr(r) for r in self.reference],
            "training": {"policies": self.policies, "exposure_years": repr(self.exposure_years), "claims": self.claims},
            "severity": None
            if self.severity is None
            else {
                "kind": "gamma_claim_severity",
                "intercept": repr(self.severity.intercept),
                "coefficients": [repr(c) for c in self.severity.coefficients],
            },
        }

    def to_bytes(self) -> bytes:
        return canonical_json(self.document())

    @property
    def sha256(self) -> str:
        """Hex SHA-256 of the saved bytes: the id every premium records."""
        return hashlib.sha256(self.to_bytes()).hexdigest()

    def _x(self, features: DriverFeatures) -> npt.NDArray[np.float64]:
        row = dict(zip(FEATURE_NAMES, features.as_row(), strict=True))
        return np.array([row[name] for name in self.features])

    def frequency(self, features: DriverFeatures) -> float:
        """Expected claims per policy year."""
        return math.exp(self.intercept + float(np.dot(self.coefficients, self._x(features))))

    def factor(self, features: DriverFeatures) -> Decimal:
        """Frequency relative to the training portfolio's reference driver, to 4 places."""
        exponent = float(np.dot(self.coefficients, self._x(features) - np.array(self.reference)))
        bound = math.log(MAX_FACTOR)
        factor = math.exp(min(bound, max(-bound, exponent)))
        return Decimal(repr(factor)).quantize(FACTOR_PLACES, rounding=ROUND_HALF_EVEN)


def fit_risk_model(
    features: npt.NDArray[np.float64],
    exposure: npt.NDArray[np.float64],
    claim_count: npt.NDArray[np.int64],
    *,
    version: int,
    amount: npt.NDArray[np.int64] | None = None,
) -> RiskModel:
    """Fit the frequency model (and, given claim amounts, the severity model). Columns of
    `features` follow `FEATURE_NAMES`."""
    from sklearn.linear_model import PoissonRegressor, TweedieRegressor

    n = len(exposure)
    if features.shape != (n, len(FEATURE_NAMES)) or len(claim_count) != n:
        raise RiskModelError(f"expected {n} rows of {len(FEATURE_NAMES)} features, exposure and claim counts")
    if n < len(FEATURE_NAMES) + 1 or not bool(np.all(exposure > 0)) or not bool(np.all(claim_count >= 0)):
        raise RiskModelError("need more policies than features, positive exposure and non-negative claim counts")
    if not bool(np.all(np.isfinite(features))):
        raise RiskModelError("features contain NaN or infinite values")
    if int(claim_count.sum()) == 0:
        raise RiskModelError("no claims in the portfolio: claim frequency cannot be fitted")
    frequency = PoissonRegressor(alpha=0.0, solver="newton-cholesky", max_iter=100, tol=1e-10)
    frequency.fit(features, claim_count / exposure, sample_weight=exposure)
    severity = None
    if amount is not None:
        claimed = claim_count > 0
        if int(claimed.sum()) > len(FEATURE_NAMES) + 1:
            gamma = TweedieRegressor(
                power=2.0, link="log", alpha=0.0, solver="newton-cholesky", max_iter=100, tol=1e-10
            )
            gamma.fit(
                features[claimed],
                amount[claimed] / claim_count[claimed],
                sample_weight=claim_count[claimed].astype(np.float64),
            )
            severity = SeverityModel(float(gamma.intercept_), tuple(float(c) for c in gamma.coef_))
    reference = np.average(features, axis=0, weights=exposure)
    return RiskModel(
        version=version,
        features=FEATURE_NAMES,
        intercept=float(frequency.intercept_),
        coefficients=tuple(float(c) for c in frequency.coef_),
        reference=tuple(float(r) for r in reference),
        policies=n,
        exposure_years=float(exposure.sum()),
        claims=int(claim_count.sum()),
        severity=severity,
    )


def save_model(model: RiskModel, directory: Path) -> Path:
    """Write `risk-model-v<version>-<sha256[:12]>.json`; returns its path."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"risk-model-v{model.version}-{model.sha256[:12]}.json"
    path.write_bytes(model.to_bytes())
    return path


def _floats(values: object, what: str) -> tuple[float, ...]:
    if not isinstance(values, list):
        raise RiskModelError(f"model {what} is not a list")
    return tuple(float(v) for v in values)


def load_model(path: Path, *, expected_sha256: str | None = None) -> RiskModel:
    """Read a saved model; refuses a file whose bytes do not hash to `expected_sha256` or that
    does not round-trip to the same bytes."""
    try:
        data = path.read_bytes()
        doc = parse_json(data)
        if doc.get("format") != FORMAT:
            raise RiskModelError(f"{path}: not a {FORMAT} file")
        features = tuple(str(f) for f in doc["features"])
        if set(features) - set(FEATURE_NAMES):
            raise RiskModelError(f"{path}: unknown features {sorted(set(features) - set(FEATURE_NAMES))}")
        sev = doc["severity"]
        training = doc["training"]
        model = RiskModel(
            version=int(doc["version"]),
            features=features,
            intercept=float(doc["intercept"]),
            coefficients=_floats(doc["coefficients"], "coefficients"),
            reference=_floats(doc["reference"], "reference"),
            policies=int(training["policies"]),
            exposure_years=float(training["exposure_years"]),
            claims=int(training["claims"]),
            severity=None
            if sev is None
            else SeverityModel(float(sev["intercept"]), _floats(sev["coefficients"], "severity coefficients")),
        )
    except (OSError, KeyError, TypeError, ValueError, AttributeError) as exc:
        raise RiskModelError(f"cannot read risk model {path}: {exc}") from exc
    if model.to_bytes() != data:
        raise RiskModelError(f"{path}: not in canonical form (edited or corrupt)")
    if expected_sha256 is not None and model.sha256 != expected_sha256:
        raise RiskModelError(f"{path}: SHA-256 {model.sha256} is not the expected {expected_sha256}")
    return model


def latest_model(directory: Path) -> RiskModel:
    """The saved model with the highest version in `directory`."""
    paths = list(directory.glob("risk-model-v*-*.json"))
    if not paths:
        raise RiskModelError(f"no risk model in {directory} (train one with `neot model train`)")
    models = [load_model(p) for p in paths]
    return max(models, key=lambda m: (m.version, m.sha256))

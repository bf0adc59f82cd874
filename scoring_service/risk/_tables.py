"""Claims and feature tables: CSV files in and out, and features joined from the database.

claims.csv: `policy,exposure,claim_count,amount` (exposure in policy years, amount the total
claim cost in NEOT base units). features.csv: `policy` and one column per `FEATURE_NAMES`.
"""

import csv
import math
from dataclasses import dataclass
from datetime import UTC, datetime, time
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from scoring_service.errors import RiskModelError
from scoring_service.risk._features import FEATURE_NAMES, DriverFeatures, features_from_totals
from scoring_service.risk._synthetic import Portfolio

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

__all__ = [
    "CLAIMS_COLUMNS",
    "Claims",
    "features_for_policies",
    "join_features",
    "read_claims_csv",
    "read_features_csv",
    "write_portfolio_csvs",
]

CLAIMS_COLUMNS = ("policy", "exposure", "claim_count", "amount")


@dataclass(frozen=True, slots=True, eq=False)
class Claims:
    """One row per policy."""

    policy: npt.NDArray[np.int64]
    exposure: npt.NDArray[np.float64]
    claim_count: npt.NDArray[np.int64]
    amount: npt.NDArray[np.int64]


def _rows(path: Path, required: tuple[str, ...]) -> list[dict[str, str]]:
    try:
        with path.open(newline="", encoding="utf-8") as f:
            reader = csv.DictReader(f)
            missing = [c for c in required if c not in (reader.fieldnames or [])]
            if missing:
                raise RiskModelError(f"{path}: header lacks {', '.join(missing)}")
            return list(reader)
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise RiskModelError(f"cannot read {path}: {exc}") from exc


def read_claims_csv(path: Path) -> Claims:
    """Read and check a claims table (unique policies, exposure > 0, counts and amounts >= 0)."""
    rows = _rows(path, CLAIMS_COLUMNS)
    policy, exposure, count, amount = [], [], [], []
    for line, row in enumerate(rows, start=2):
        try:
            policy.append(int(row["policy"]))
            exposure.append(float(row["exposure"]))
            count.append(int(row["claim_count"]))
            amount.append(int(row["amount"]))
        except (TypeError, ValueError) as exc:
            raise RiskModelError(f"{path} line {line}: {exc}") from exc
        if not (math.isfinite(exposure[-1]) and exposure[-1] > 0) or count[-1] < 0 or amount[-1] < 0:
            raise RiskModelError(f"{path} line {line}: exposure must be > 0, claim_count and amount >= 0")
    if len(set(policy)) != len(policy):
        raise RiskModelError(f"{path}: a policy appears more than once")
    return Claims(
        np.array(policy, dtype=np.int64),
        np.array(exposure, dtype=np.float64),
        np.array(count, dtype=np.int64),
        np.array(amount, dtype=np.int64),
    )


def read_features_csv(path: Path) -> dict[int, DriverFeatures]:
    """Features per policy from a CSV."""
    out: dict[int, DriverFeatures] = {}
    for line, row in enumerate(_rows(path, ("policy", *FEATURE_NAMES)), start=2):
        try:
            values = [float(row[name]) for name in FEATURE_NAMES]
            out[int(row["policy"])] = DriverFeatures(*values)
        except (TypeError, ValueError) as exc:
            raise RiskModelError(f"{path} line {line}: {exc}") from exc
        if not all(math.isfinite(v) for v in values):
            raise RiskModelError(f"{path} line {line}: features must be finite")
    return out


def join_features(claims: Claims, features: dict[int, DriverFeatures]) -> npt.NDArray[np.float64]:
    """The feature matrix in claims order; every policy must have features."""
    missing = [int(p) for p in claims.policy if int(p) not in features]
    if missing:
        raise RiskModelError(f"no features for {len(missing)} policies, e.g. {missing[:5]}")
    return np.array([features[int(p)].as_row() for p in claims.policy], dtype=np.float64)


def write_portfolio_csvs(portfolio: Portfolio, directory: Path) -> tuple[Path, Path]:
    """Write a portfolio as claims.csv and features.csv; returns both paths."""
    directory.mkdir(parents=True, exist_ok=True)
    claims_path, features_path = directory / "claims.csv", directory / "features.csv"
    with claims_path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(CLAIMS_COLUMNS)
        for i in range(len(portfolio.policy)):
            w.writerow(
                [
                    int(portfolio.policy[i]),
                    repr(float(portfolio.exposure[i])),
                    int(portfolio.claim_count[i]),
                    int(portfolio.amount[i]),
                ]
            )
    with features_path.open("w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(("policy", *FEATURE_NAMES))
        for i in range(len(portfolio.policy)):
            w.writerow([int(portfolio.policy[i]), *(repr(float(v)) for v in portfolio.features[i])])
    return claims_path, features_path


def features_for_policies(session: "Session", policy_ids: list[int]) -> dict[int, DriverFeatures]:
    """Each policy's driver's features over the policy period, from stored trips."""
    from sqlalchemy import select

    from models import Policy
    from scoring_service.scoring import driver_totals

    policies = session.scalars(select(Policy).where(Policy.id.in_(policy_ids))).all()
    out: dict[int, DriverFeatures] = {}
    for policy in policies:
        start = datetime.combine(policy.period_start, time(), UTC)
        end = datetime.combine(policy.period_end, time(), UTC)
        totals = driver_totals(session, driver_id=policy.driver_id, start=start, end=end)
        out[policy.id] = features_from_totals(totals, max((end - start).days, 1))
    return out

"""Which risk model prices statements: the newest saved model in the data folder's `models/`."""

from pathlib import Path

from insurer_api.errors import ConflictError
from scoring_service.errors import RiskModelError
from scoring_service.risk import RiskModel, latest_model

__all__ = ["current_risk_model"]


def current_risk_model(models_dir: Path) -> RiskModel | None:
    """The highest-version model saved in `models_dir`, or None when none is installed.

    A model file that fails its integrity checks is a 409 with the reason, never a silent
    fallback to an older model: the statement records which model priced it.
    """
    if not models_dir.is_dir() or not any(models_dir.glob("risk-model-v*-*.json")):
        return None
    try:
        return latest_model(models_dir)
    except RiskModelError as exc:
        raise ConflictError(f"the installed risk model is unusable: {exc}") from exc

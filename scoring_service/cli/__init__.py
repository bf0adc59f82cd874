"""The scoring service's commands: `neot score-worker`, `score-file`, `model`, `speed-limits`,
`anchor`, `proof` and `samples`.

Kept cheap to import: SQLAlchemy, numpy, scikit-learn and neo-mamba are imported inside the
commands, so that `neot` loads on an in-car box that has only the agent extra.
"""

import typer

from scoring_service.cli import _anchoring, _retention, _scoring, _worker

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Mount every scoring-service command on the root command."""
    _worker.register(app)
    _scoring.register(app)
    _anchoring.register(app)
    _retention.register(app)

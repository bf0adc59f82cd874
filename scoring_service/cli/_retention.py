"""`neot samples purge`: delete the raw samples whose retention after billing has run out."""

from datetime import UTC, datetime, timedelta
from typing import Annotated

import typer
from rich.console import Console

from neot.settings import get_settings

__all__ = ["register"]

samples_app = typer.Typer(help="Raw telemetry samples: retention.", no_args_is_help=True)
_console = Console(highlight=False)


@samples_app.command("purge")
def purge(
    keep_days: Annotated[
        float | None,
        typer.Option(min=0, help="Days samples outlive their month's billing (default: NEOT_SAMPLE_RETENTION_DAYS)."),
    ] = None,
) -> None:
    """Delete every month of samples kept long enough after billing (safe to run at any time)."""
    from models import make_engine
    from neot.db import database_errors
    from scoring_service.retention import RetentionPolicy, purge_expired_samples

    settings = get_settings()
    days = settings.sample_retention_days if keep_days is None else keep_days
    with database_errors(settings.database_url):
        engine = make_engine(settings.database_url)
        try:
            done = purge_expired_samples(
                engine, now=datetime.now(UTC), policy=RetentionPolicy(keep_after_billing=timedelta(days=days))
            )
        finally:
            engine.dispose()
    months = ", ".join(f"{m:%Y-%m}" for m in done.months) or "none"
    rows = "" if done.rows is None else f" ({done.rows} rows)"
    _console.print(f"samples purged for months: {months}{rows}; kept {days:g} days after billing")


def register(app: typer.Typer) -> None:
    """Add `samples` to the root command."""
    app.add_typer(samples_app, name="samples")

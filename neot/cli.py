"""The `neot` command. Each component contributes its commands through `register(app)` in its
own `cli.py`; those modules import their heavy dependencies inside the commands, so that
`neot agent …` runs on a box with only the `agent` extra installed.
"""

import sys
from importlib import import_module
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.console import Console

from neot import __version__
from neot.errors import UserError
from neot.logging import configure_logging
from neot.settings import get_settings

__all__ = ["app", "main"]

# Components that add commands, in the order their help appears. A module whose extra is not
# installed (e.g. the server parts on an in-car box) is skipped, so only working commands show.
COMPONENTS: tuple[str, ...] = (
    "neot.db",
    "neot.demo",
    "vehicle_agent.cli",
    "scoring_service.anchoring_cli",
    "scoring_service.scoring_cli",
    "neot.verify",
    "chain.cli",
    "insurer_api.ledger_cli",
    "insurer_api.repair.cli",
    "insurer_api.cli",
)

app = typer.Typer(
    name="neot",
    help="NEOT: usage-based car insurance with driving scores anchored on NEO N3.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
_err = Console(stderr=True)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"neot {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Print the version.")
    ] = False,
) -> None:
    try:
        settings = get_settings()
    except ValidationError as exc:
        problems = "; ".join(str(error["msg"]) for error in exc.errors())
        raise UserError(f"invalid NEOT_* settings: {problems}", "fix the environment variables named") from exc
    configure_logging(settings.log_level, settings.log_format)


def _register_components() -> None:
    for name in COMPONENTS:
        try:
            module = import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name and exc.name.split(".")[0] == name.split(".")[0]:
                raise  # our own module is missing: a packaging bug, not an absent extra
            continue
        module.register(app)


def main() -> None:
    """Entry point of the `neot` console script."""
    _register_components()
    try:
        app()
    except UserError as exc:
        _err.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        sys.exit(2)

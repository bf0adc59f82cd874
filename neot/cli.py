"""The `neot` command. Each component contributes its commands through a `register(app)` function
named in the `neot.commands` entry-point group (pyproject.toml), so the root knows no component and
nothing here imports upward. Those modules import their heavy dependencies inside the commands, so
that `neot agent …` runs on a box with only the `agent` extra installed.
"""

import sys
from importlib.metadata import entry_points
from typing import Annotated

import typer
from pydantic import ValidationError
from rich.console import Console

from neot import __version__
from neot.errors import UserError
from neot.logging import configure_logging
from neot.settings import LogSettings

__all__ = ["COMMANDS_GROUP", "app", "main", "register_commands"]

COMMANDS_GROUP = "neot.commands"

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
    # Only how to log is read here: the server's settings (secret key, database) are checked by the
    # commands that need them, so the in-car agent starts with none of them set.
    try:
        settings = LogSettings()
    except ValidationError as exc:
        problems = "; ".join(str(error["msg"]) for error in exc.errors())
        raise UserError(f"invalid NEOT_* settings: {problems}", "fix the environment variables named") from exc
    configure_logging(settings.log_level, settings.log_format)


def register_commands() -> None:
    """Mount every installed component's commands, in entry-point name order. A component whose
    extra is not installed (the server parts on an in-car box) is skipped, so only working commands
    show."""
    for entry in sorted(entry_points(group=COMMANDS_GROUP), key=lambda e: e.name):
        try:
            register = entry.load()
        except ModuleNotFoundError as exc:
            if exc.name and exc.name.split(".")[0] == entry.module.split(".")[0]:
                raise  # our own module is missing: a packaging bug, not an absent extra
            continue
        register(app)


def main() -> None:
    """Entry point of the `neot` console script."""
    register_commands()
    try:
        app()
    except UserError as exc:
        _err.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
        sys.exit(2)

"""`neot db upgrade|downgrade|status`: the schema commands. Heavy imports happen inside commands."""

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from neot._context import ensure_data_dir
from neot.errors import UserError
from neot.settings import get_settings

__all__ = ["app", "register"]

app = typer.Typer(help="Create and migrate the NEOT database.", no_args_is_help=True)
_console = Console()


def _database_url() -> str:
    settings = get_settings()
    if settings.database_url.startswith("sqlite"):
        ensure_data_dir(settings)
    return settings.database_url


def _run(action: str, url: str, revision: str) -> None:
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError

    import migrations

    try:
        getattr(migrations, action)(url, revision)
    except (OperationalError, ArgumentError, NoSuchModuleError) as exc:
        raise UserError(
            f"cannot reach the database at {_redact(url)}: {str(exc.orig if hasattr(exc, 'orig') else exc).splitlines()[0]}",
            "check NEOT_DATABASE_URL and that the server answers",
        ) from exc


def _redact(url: str) -> str:
    from sqlalchemy.engine import make_url

    try:
        return make_url(url).render_as_string(hide_password=True)
    except Exception:  # an unparsable URL is reported as given, minus nothing secret to hide
        return url.split("@")[-1]


@app.command()
def upgrade(revision: Annotated[str, typer.Argument(help="target revision")] = "head") -> None:
    """Apply migrations up to REVISION (default: the newest)."""
    url = _database_url()
    _run("upgrade", url, revision)
    _console.print(f"[green]✓[/] database at {_redact(url)} is at {revision}")


@app.command()
def downgrade(revision: Annotated[str, typer.Argument(help="target revision")] = "base") -> None:
    """Revert migrations down to REVISION (default: base, which drops every table)."""
    url = _database_url()
    _run("downgrade", url, revision)
    _console.print(f"[yellow]✓[/] database at {_redact(url)} is at {revision}")


@app.command()
def status() -> None:
    """Show the database URL, its revision and the newest revision the code knows."""
    from sqlalchemy.exc import OperationalError

    import migrations
    from models import make_engine

    url = _database_url()
    try:
        current = migrations.current_revision(make_engine(url))
    except OperationalError as exc:
        raise UserError(f"cannot reach the database at {_redact(url)}", "check NEOT_DATABASE_URL") from exc
    table = Table("database", "revision", "code head", "up to date")
    head = migrations.head_revision()
    table.add_row(_redact(url), current or "(empty)", head, "yes" if current == head else "no")
    _console.print(table)


def register(root: typer.Typer) -> None:
    """Mount `neot db`."""
    root.add_typer(app, name="db")

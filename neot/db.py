"""`neot db upgrade|downgrade|status`: the schema commands.

Alembic and SQLAlchemy are imported inside the commands, so that this module loads on an in-car box.
"""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from neot.errors import UserError
from neot.settings import ensure_data_dir, get_settings

__all__ = ["app", "database_errors", "register"]

app = typer.Typer(help="Create and migrate the NEOT database.", no_args_is_help=True)
_console = Console()


def _database_url() -> str:
    settings = get_settings()
    if settings.database_url.startswith("sqlite"):
        ensure_data_dir(settings)
    return settings.database_url


def _run(action: str, url: str, revision: str) -> None:
    import migrations

    with database_errors(url):
        getattr(migrations, action)(url, revision)


@contextmanager
def database_errors(url: str) -> Iterator[None]:
    """Turn "cannot connect" and "no such driver" into a one-line error that says what to fix."""
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError

    try:
        yield
    except OperationalError as exc:
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else "no answer"
        raise UserError(
            f"cannot reach the database at {_redact(url)}: {reason}",
            "check NEOT_DATABASE_URL and that the server answers",
        ) from exc
    except (ArgumentError, NoSuchModuleError) as exc:
        raise UserError(
            f"NEOT_DATABASE_URL is not a usable database URL: {_redact(url)}",
            "use sqlite:///path or postgresql+psycopg://user@host:5432/db",
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
    import migrations
    from models import make_engine

    url = _database_url()
    with database_errors(url):
        engine = make_engine(url)
        current = migrations.current_revision(engine)
        engine.dispose()
    head = migrations.head_revision()
    table = Table("database", "revision", "code head", "up to date")
    table.add_row(_redact(url), current or "(empty)", head, "yes" if current == head else "no")
    _console.print(table)


def register(root: typer.Typer) -> None:
    """Mount `neot db`."""
    root.add_typer(app, name="db")

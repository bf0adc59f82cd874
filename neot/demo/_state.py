"""`neot demo`: prepare the data dir and database, then show what is there."""

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from neot._context import ensure_data_dir
from neot.settings import get_settings

__all__ = ["register"]

_console = Console()


def demo(
    as_json: Annotated[bool, typer.Option("--json", help="Print the state as JSON.")] = False,
) -> None:
    """Set up the data dir and database and print the state they are in."""
    import json

    from sqlalchemy import func, select
    from sqlalchemy.exc import OperationalError

    import migrations
    from models import Base, make_engine, make_session_factory
    from neot.errors import UserError

    settings = get_settings()
    data_dir = ensure_data_dir(settings)
    try:
        migrations.upgrade(settings.database_url)
    except OperationalError as exc:
        raise UserError("cannot reach the database", "check NEOT_DATABASE_URL") from exc
    engine = make_engine(settings.database_url)
    counts: dict[str, int] = {}
    with make_session_factory(engine)() as session:
        for db_table in Base.metadata.sorted_tables:
            counts[db_table.name] = session.scalar(select(func.count()).select_from(db_table)) or 0
    state = {
        "data_dir": str(data_dir.resolve()),
        "database": engine.url.render_as_string(hide_password=True),
        "revision": migrations.current_revision(engine),
        "tables": counts,
    }
    engine.dispose()
    if as_json:
        typer.echo(json.dumps(state, indent=2))
        return
    table = Table("table", "rows", title="NEOT state")
    for name, rows in counts.items():
        table.add_row(name, str(rows))
    _console.print(f"data dir [bold]{state['data_dir']}[/]  database [bold]{state['database']}[/]")
    _console.print(f"schema revision [bold]{state['revision']}[/]")
    _console.print(table)


def register(root: typer.Typer) -> None:
    """Mount `neot demo`."""
    root.command(name="demo")(demo)

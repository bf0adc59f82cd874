"""`neot ledger reconcile`: the ledger against the chain; exit code 1 on any difference.

Heavy imports (SQLAlchemy, neo-mamba) happen inside the command, so the CLI loads on an in-car box.
"""

from collections.abc import Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from insurer_api.payments import EscrowGateway

__all__ = ["register"]

ChainDirOption = Annotated[
    Path | None,
    typer.Option("--chain-dir", help="Folder of `neot chain deploy` (default: $NEOT_DATA_DIR/chain)."),
]


def register(app: typer.Typer) -> None:
    ledger = typer.Typer(help="The double-entry ledger of NEOT payments.", no_args_is_help=True)

    @ledger.command("reconcile")
    def reconcile_command(
        chain_dir: ChainDirOption = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
        exclusive_escrow: Annotated[
            bool,
            typer.Option("--exclusive-escrow", help="This ledger is the escrow's only user: check its whole balance."),
        ] = False,
    ) -> None:
        """Finish or void payments left in flight, book drivers' deposits, and report every
        difference between ledger and chain (exit code 1 if there is any)."""
        import asyncio
        import json

        from rich.console import Console
        from rich.table import Table

        from insurer_api.payments import reconcile
        from models import make_engine, make_session_factory

        gateway = gateway_from_settings(chain_dir)
        engine = make_engine(_database_url())
        try:
            with make_session_factory(engine)() as session:
                report = asyncio.run(_checked(reconcile(session, gateway, exclusive_escrow=exclusive_escrow)))
        finally:
            engine.dispose()
        if as_json:
            typer.echo(json.dumps(report.to_json(), indent=2))
        else:
            console = Console()
            for action in report.actions:
                console.print(f"[cyan]•[/] {action.subject}: {action.result}", highlight=False)
            if report.differences:
                table = Table("subject", "ledger", "chain", "note", title="Differences")
                for d in report.differences:
                    table.add_row(d.subject, str(d.ledger), str(d.chain), d.note)
                console.print(table)
            verdict = (
                "[green]ledger equals chain[/]" if report.clean else f"[red]{len(report.differences)} differences[/]"
            )
            console.print(
                f"{verdict}: {report.accounts_checked} accounts and {report.payments_checked} payments checked"
            )
        if not report.clean:
            raise typer.Exit(1)

    app.add_typer(ledger, name="ledger")


def _database_url() -> str:
    from neot.settings import get_settings

    return get_settings().database_url


async def _checked[T](coro: Coroutine[object, object, T]) -> T:
    """Turn an unreachable node into a one-line error."""
    from insurer_api.payments import ChainUnavailableError
    from neot.errors import UserError

    try:
        return await coro
    except ChainUnavailableError as exc:
        raise UserError(str(exc), "start the node with `neot chain up` or set NEOT_NEO_RPC_URL") from exc


def gateway_from_settings(chain_dir: Path | None) -> "EscrowGateway":
    """The escrow gateway of the deployment in `chain_dir` (default: the data dir's chain folder)."""
    from chain import Deployment, DeploymentError
    from insurer_api.payments import EscrowGateway
    from neot.errors import UserError
    from neot.settings import get_settings

    folder = (chain_dir if chain_dir is not None else get_settings().data_dir / "chain").resolve()
    try:
        return EscrowGateway.from_deployment(Deployment.load(folder))
    except DeploymentError as exc:
        raise UserError(str(exc), "run `neot chain deploy` or pass --chain-dir") from exc

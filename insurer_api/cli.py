"""`neot api serve|create-admin` and `neot ledger reconcile`: run the insurer API, make its first
account, and check the ledger against the chain (exit code 1 on any difference).

Heavy imports (FastAPI, uvicorn, SQLAlchemy, neo-mamba) happen inside the commands, so the CLI
loads on an in-car box that has only the agent extra.
"""

from collections.abc import Coroutine
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from insurer_api.payments import EscrowGateway

__all__ = ["gateway_from_settings", "register"]

ChainDirOption = Annotated[
    Path | None,
    typer.Option("--chain-dir", help="Folder of `neot chain deploy` (default: $NEOT_DATA_DIR/chain)."),
]


def register(app: typer.Typer) -> None:
    """Mount `neot api` and `neot ledger`."""
    _register_api(app)
    _register_ledger(app)


def _register_api(app: typer.Typer) -> None:
    api = typer.Typer(help="The insurer API (HTTP): policies, statements, payments, repair jobs.", no_args_is_help=True)

    @api.command("serve")
    def serve(
        host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
        port: Annotated[int, typer.Option(min=1, max=65535, help="TCP port.")] = 8000,
        workers: Annotated[
            int, typer.Option(min=1, max=64, help="Worker processes sharing the port (about one per core).")
        ] = 1,
    ) -> None:
        """Serve the insurer API (scoring routes included) over the configured database.

        Reads NEOT_DATABASE_URL, NEOT_DATA_DIR, NEOT_SECRET_KEY and NEOT_ENVIRONMENT; outside
        development a real NEOT_SECRET_KEY is required. A chain deployment in the data folder
        enables charging and payouts. Run `neot db upgrade` first. Each worker process keeps its
        own pool of NEOT_DB_POOL_SIZE (+ NEOT_DB_MAX_OVERFLOW) connections: see the README's
        sizing rule before raising --workers against PostgreSQL.
        """
        import uvicorn

        from insurer_api.app import create_app
        from neot.errors import UserError

        try:
            application = create_app()  # in this process too: refuses bad settings before forking
        except ValueError as exc:  # settings refused (e.g. the default secret outside development)
            raise UserError(str(exc), "set the NEOT_* variables named above") from exc
        if workers == 1:
            uvicorn.run(application, host=host, port=port, log_config=None, access_log=False)
            return
        # Several processes behind one port: uvicorn binds it once and each worker accepts on it,
        # building its own app (its own pool and revocation poll) from the same environment.
        uvicorn.run(
            "insurer_api.app:create_app",
            factory=True,
            workers=workers,
            host=host,
            port=port,
            log_config=None,
            access_log=False,
        )

    @api.command("create-admin")
    def create_admin(
        username: Annotated[str, typer.Argument(help="Sign-in name (an e-mail address).")],
        password: Annotated[
            str, typer.Option(prompt=True, hide_input=True, confirmation_prompt=True, help="At least 8 characters.")
        ],
    ) -> None:
        """Create an admin account (admins register insurers and create accounts for parties)."""
        from insurer_api.auth import create_user
        from insurer_api.errors import ApiError
        from models import Role, make_engine, make_session_factory
        from neot.errors import UserError
        from neot.settings import get_settings

        if len(password) < 8:
            raise UserError("the password is too short", "use at least 8 characters")
        engine = make_engine(get_settings().database_url)
        try:
            with make_session_factory(engine)() as session:
                user = create_user(session=session, username=username, password=password, role=Role.ADMIN)
                session.commit()
                typer.echo(f"admin {user.username} created (user {user.id})")
        except ApiError as exc:
            raise UserError(exc.message, "choose another user name") from exc
        finally:
            engine.dispose()

    app.add_typer(api, name="api")


def _register_ledger(app: typer.Typer) -> None:
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

"""`neot api serve` and `neot api create-admin`: run the insurer API, and make its first account.

Heavy imports (FastAPI, uvicorn, SQLAlchemy) happen inside the commands, so the CLI loads on an
in-car box that has only the agent extra.
"""

from typing import Annotated

import typer

__all__ = ["register"]


def register(app: typer.Typer) -> None:
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

"""The insurer API's FastAPI app factory. Run it with
`uvicorn --factory insurer_api.app:create_app` (the database must be at the newest migration).
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import anyio
from fastapi import APIRouter, FastAPI
from sqlalchemy import Engine

from chain import DEPLOYMENT_FILE
from insurer_api.auth import RevocationList, poll_revocations
from insurer_api.auth.routes import router as auth_router
from insurer_api.dashboard import mount_dashboard
from insurer_api.devices import router as devices_router
from insurer_api.epochs import router as epochs_router
from insurer_api.errors import install_exception_handlers
from insurer_api.parties.routes import router as parties_router
from insurer_api.payments import install_from_deployment
from insurer_api.payments.routes import router as payments_router
from insurer_api.policies.routes import router as policies_router
from insurer_api.proofs.routes import router as proofs_router
from insurer_api.repair.routes import repair_intake
from insurer_api.repair.routes import router as repair_router
from insurer_api.statements import StatementCharger
from insurer_api.statements.routes import router as statements_router
from insurer_api.trips.routes import router as trips_router
from insurer_api.vehicles.routes import router as vehicles_router
from models import make_engine
from neot import __version__
from neot.settings import Settings, get_settings
from scoring_service.api_deps import install_database
from scoring_service.app import ROUTERS as SCORING_ROUTERS
from scoring_service.devices import install_trouble_code_handler
from scoring_service.stream import batch_stream

__all__ = ["ROUTERS", "create_app"]

# Every router the insurer API serves, in the order they appear in the OpenAPI document; the scoring
# service's (device edge, `/health`, `/metrics`) follow.
ROUTERS: tuple[APIRouter, ...] = (
    auth_router,
    parties_router,
    vehicles_router,
    devices_router,
    policies_router,
    trips_router,
    statements_router,
    payments_router,
    repair_router,
    proofs_router,
    epochs_router,
)


def create_app(
    settings: Settings | None = None,
    *,
    engine: Engine | None = None,
    statement_charger: StatementCharger | None = None,
) -> FastAPI:
    """The insurer API over `engine` (default: `settings.database_url`), scoring routes included.

    `statement_charger` charges an issued statement on chain. Without one, a chain deployment in
    `<data dir>/chain` (from `neot chain deploy`) is installed for payments and charging; with
    neither, statements are issued uncharged and say so. Settings are validated when built,
    so an app outside development never starts with the default token-signing key.
    """
    settings = settings or get_settings()
    app = FastAPI(
        title="NEOT insurer API",
        version=__version__,
        description="Usage-based car insurance priced from driving scores anchored on NEO N3.",
        lifespan=_lifespan,
    )
    app.state.settings = settings
    app.state.revocations = RevocationList(settings.access_token_ttl_s)
    app.state.statement_charger = statement_charger
    chain_dir = settings.data_dir / "chain"
    if statement_charger is None and (chain_dir / DEPLOYMENT_FILE).is_file():
        install_from_deployment(app, chain_dir)
    if engine is None:
        # bounded per process: N processes open at most N x (pool + overflow) connections (README)
        engine = make_engine(
            settings.database_url, pool_size=settings.db_pool_size, max_overflow=settings.db_max_overflow
        )
    install_database(app, engine)
    # the device edge stores trouble-code reports; the repair intake acts on them in the same request
    install_trouble_code_handler(app, repair_intake)
    install_exception_handlers(app)
    for router in (*ROUTERS, *SCORING_ROUTERS):
        app.include_router(router)
    mount_dashboard(app)
    return app


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Keep the revocation list fresh while the app serves (first read before the first request),
    and hold the batch stream when `NEOT_STREAM_URL` names one."""
    settings: Settings = app.state.settings
    async with batch_stream(app, settings), anyio.create_task_group() as tasks:
        await anyio.to_thread.run_sync(_first_read, app)
        tasks.start_soon(
            lambda: poll_revocations(
                app.state.revocations, app.state.session_factory, interval_s=settings.revocation_poll_s
            )
        )
        yield
        tasks.cancel_scope.cancel()


def _first_read(app: FastAPI) -> None:
    revocations: RevocationList = app.state.revocations
    with app.state.session_factory() as session:
        revocations.refresh(session)

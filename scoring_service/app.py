"""The scoring service's FastAPI app factory. Run it with
`uvicorn --factory scoring_service.app:create_app` (the database must be at the newest migration).

Other apps (the insurer API) serve the same routes by including `ROUTERS` and calling
`scoring_service.api_deps.install_database` on their app.
"""

from fastapi import APIRouter, FastAPI
from sqlalchemy import Engine

from models import make_engine
from neot import __version__
from neot.settings import Settings, get_settings
from scoring_service.api_deps import install_database
from scoring_service.devices import router as devices_router
from scoring_service.ingest import IngestLimits
from scoring_service.ingest import router as ingest_router
from scoring_service.monitoring import router as monitoring_router
from scoring_service.stream import batch_stream

__all__ = ["ROUTERS", "create_app"]

# Every router the scoring service serves, in the order they appear in the OpenAPI document.
ROUTERS: tuple[APIRouter, ...] = (monitoring_router, ingest_router, devices_router)


def create_app(
    settings: Settings | None = None, *, engine: Engine | None = None, ingest_limits: IngestLimits | None = None
) -> FastAPI:
    """The scoring service over `engine` (default: `settings.database_url`)."""
    settings = settings or get_settings()
    app = FastAPI(
        title="NEOT scoring service",
        version=__version__,
        description="The device edge: verified ingestion of signed telemetry batches and trouble-code reports.",
        lifespan=lambda app: batch_stream(app, settings),
    )
    app.state.settings = settings
    if engine is None:
        # bounded per process, as the insurer API's (README: sizing rule)
        engine = make_engine(
            settings.database_url, pool_size=settings.db_pool_size, max_overflow=settings.db_max_overflow
        )
    install_database(app, engine)
    if ingest_limits is not None:
        app.state.ingest_limits = ingest_limits
    for router in ROUTERS:
        app.include_router(router)
    return app

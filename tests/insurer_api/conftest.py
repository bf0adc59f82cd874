"""Fixtures for the insurer API tests: `api` (a live server over a migrated database, SQLite and
PostgreSQL) and `world` (two of every role, with cover, trips and scores). See `api_world.py`."""

from collections.abc import Iterator

import httpx
import pytest
from api_world import (
    ADMIN_PASSWORD,
    ADMIN_USERNAME,
    WORLD_SEEDERS,
    Api,
    LiveServer,
    World,
    api_settings,
)

from insurer_api.app import create_app
from insurer_api.auth import create_user
from models import Role, make_engine, make_session_factory


@pytest.fixture
def api(migrated_url: str) -> Iterator[Api]:
    """The insurer API over a fresh migrated database, with one admin account."""
    engine = make_engine(migrated_url)
    factory = make_session_factory(engine)
    with factory() as session:
        create_user(session=session, username=ADMIN_USERNAME, password=ADMIN_PASSWORD, role=Role.ADMIN)
        session.commit()
    settings = api_settings(migrated_url)
    app = create_app(settings, engine=engine)
    with LiveServer(app) as server, httpx.Client(base_url=server.base_url, timeout=30) as client:
        yield Api(base_url=server.base_url, client=client, session_factory=factory, settings=settings, app=app)
    engine.dispose()


@pytest.fixture
def world(api: Api) -> World:
    built = World(api=api)
    for seed in WORLD_SEEDERS:
        seed(built)
    return built

"""Fixtures for the insurer API tests: `api` (a live server over a migrated database, SQLite and
PostgreSQL) and `world` (two of every role, with cover, trips and scores). See `api_world.py`."""

import shutil
from collections.abc import Iterator
from pathlib import Path

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
    train_risk_model,
)

from insurer_api.app import create_app
from insurer_api.auth import create_user
from models import Role, make_engine, make_session_factory
from neot.logging import configure_logging
from neot.settings import LogFormat


@pytest.fixture(scope="session")
def risk_model_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One fitted risk model for the whole run (fitting takes a moment)."""
    return train_risk_model(tmp_path_factory.mktemp("risk-model"))


@pytest.fixture
def api(migrated_url: str, risk_model_file: Path, tmp_path: Path) -> Iterator[Api]:
    """The insurer API over a fresh migrated database, with one admin account and a risk model."""
    models_dir = tmp_path / "data" / "models"
    models_dir.mkdir(parents=True)
    shutil.copy(risk_model_file, models_dir / risk_model_file.name)
    engine = make_engine(migrated_url)
    factory = make_session_factory(engine)
    with factory() as session:
        create_user(session=session, username=ADMIN_USERNAME, password=ADMIN_PASSWORD, role=Role.ADMIN)
        session.commit()
    settings = api_settings(migrated_url, tmp_path / "data")
    configure_logging("DEBUG", LogFormat.JSON)
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

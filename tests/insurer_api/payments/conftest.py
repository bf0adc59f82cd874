"""`money`: a fresh funded insurer on the shared test chain over a migrated database (both backends)."""

import pytest
from money_world import MoneyWorld, build_money_world

from models import make_engine, make_session_factory
from tests.chain_fixtures import DeployedChain


@pytest.fixture
def money(neot_chain: DeployedChain, migrated_url: str) -> MoneyWorld:
    engine = make_engine(migrated_url)
    world = build_money_world(neot_chain, make_session_factory(engine))
    yield world  # type: ignore[misc]
    engine.dispose()

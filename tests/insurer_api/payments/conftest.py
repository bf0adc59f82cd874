"""`money`: a fresh funded insurer on the shared test chain over a migrated database (both backends)."""

from collections.abc import Iterator

import pytest
from money_world import MoneyWorld, build_money_world

from models import make_engine, make_session_factory
from tests.chain_fixtures import DeployedChain


@pytest.fixture
def money(neot_chain: DeployedChain, migrated_url: str) -> Iterator[MoneyWorld]:
    engine = make_engine(migrated_url)
    yield build_money_world(neot_chain, make_session_factory(engine))
    engine.dispose()

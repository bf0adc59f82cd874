import pytest


@pytest.fixture(scope="session")
def anyio_backend() -> str:
    """The chain client runs on asyncio (aiohttp underneath)."""
    return "asyncio"

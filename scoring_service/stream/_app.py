"""Giving an API app its batch stream for the time it serves (`NEOT_STREAM_URL`)."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from neot.settings import Settings
from scoring_service.stream._config import StreamConfig
from scoring_service.stream._publisher import BatchPublisher

__all__ = ["batch_stream"]


@asynccontextmanager
async def batch_stream(app: FastAPI, settings: Settings) -> AsyncIterator[None]:
    """With a stream URL, ingestion appends to the stream while the app serves (`app.state.batch_stream`);
    without one it stores in-process. A stream that does not answer at start-up stops the start."""
    if not settings.stream_url:
        app.state.batch_stream = None
        yield
        return
    publisher = BatchPublisher(StreamConfig.from_settings(settings))
    await publisher.start()
    app.state.batch_stream = publisher
    try:
        yield
    finally:
        app.state.batch_stream = None
        await publisher.close()

"""`neot score-worker`: score devices as their data arrives, until stopped (or, `--once`, until
nothing is due). With `--health-port` it serves `/health` (its loop's heartbeat) and `/metrics`.

With `NEOT_STREAM_URL` it first takes the batches off the stream: worker `--index` of `--count`
owns the device shards ≡ index (mod count), stores their batches (acknowledging each after commit)
and scores those devices. Without the stream, `--count` > 1 splits the devices the same way."""

from typing import TYPE_CHECKING, Annotated

import typer
from rich.console import Console

from neot.errors import UserError
from neot.settings import get_settings

if TYPE_CHECKING:
    import threading

    from scoring_service.stream import StreamStorer

__all__ = ["register"]

_console = Console(stderr=True, highlight=False)


def score_worker(
    poll_s: Annotated[float, typer.Option(min=0.05, help="Seconds between looks for work when idle.")] = 1.0,
    settle_s: Annotated[
        float, typer.Option(min=0, help="A trip with no newer data counts as ended after this many seconds.")
    ] = 3600.0,
    batch: Annotated[int, typer.Option(min=1, max=10_000, help="Devices taken per step.")] = 32,
    health_port: Annotated[
        int | None, typer.Option(min=0, max=65535, help="Serve /health and /metrics on this port (0: any free one).")
    ] = None,
    health_host: Annotated[str, typer.Option(help="Interface of the health server.")] = "0.0.0.0",
    once: Annotated[bool, typer.Option("--once", help="Score what is due now, then exit.")] = False,
    index: Annotated[
        int, typer.Option(min=0, envvar="NEOT_WORKER_INDEX", help="This worker's number, 0 to count - 1.")
    ] = 0,
    count: Annotated[
        int, typer.Option(min=1, max=1024, envvar="NEOT_WORKER_COUNT", help="How many workers share the devices.")
    ] = 1,
) -> None:
    """Segment and score each device's new samples as ingestion marks them (safe to run several)."""
    import asyncio
    import signal
    import threading

    from models import make_engine, make_session_factory
    from neot.db import database_errors
    from scoring_service.monitoring import HealthServer, Heartbeat
    from scoring_service.stream import StreamConfig, StreamStorer
    from scoring_service.worker import DirtyDevices
    from scoring_service.worker.service import ScoreWorker

    settings = get_settings()
    url = settings.database_url
    if index >= count:
        raise UserError(f"--index {index} is not below --count {count}", "number the workers 0 to count - 1")
    stream = StreamConfig.from_settings(settings) if settings.stream_url else None
    shard_count = stream.shards if stream is not None else count
    owned = [shard for shard in range(shard_count) if shard % count == index]
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    heartbeat = Heartbeat(stale_after_s=max(120.0, 10 * poll_s))
    server = None if health_port is None else HealthServer(heartbeat, host=health_host, port=health_port)
    if server is not None:
        _console.print(f"health and metrics on http://{health_host}:{server.port}/health", style="dim")
    with database_errors(url):
        engine = make_engine(url)
        try:
            sessions = make_session_factory(engine)
            mine = None if stream is None and count == 1 else (shard_count, owned)
            worker = ScoreWorker(sessions, DirtyDevices(sessions, shards=mine), settle_s=settle_s, batch=batch)
            storing = None
            if stream is not None:
                storer = StreamStorer(sessions, stream, shards=owned)
                if once:
                    asyncio.run(_drain(storer))  # everything the stream holds now, then score it
                else:
                    storing = threading.Thread(target=asyncio.run, args=(_store(storer, stop, poll_s),), daemon=True)
                    storing.start()
            stored = worker.run(poll_s=poll_s, stop=stop, heartbeat=heartbeat, once=once)
            if storing is not None:
                stop.set()
                storing.join(timeout=30)
        finally:
            engine.dispose()
            if server is not None:
                server.close()
    _console.print(f"score worker stopped: {stored} new trip(s) stored")


async def _drain(storer: "StreamStorer") -> None:
    await storer.start()
    try:
        while await storer.drain(wait_s=1.0):
            pass
    finally:
        await storer.close()


async def _store(storer: "StreamStorer", stop: "threading.Event", poll_s: float) -> None:
    await storer.start()
    try:
        await storer.run(stop, idle_s=poll_s)
    finally:
        await storer.close()


def register(app: typer.Typer) -> None:
    """Add `score-worker` to the root command."""
    app.command("score-worker")(score_worker)

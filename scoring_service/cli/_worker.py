"""`neot score-worker`: score devices as their data arrives, until stopped (or, `--once`, until
nothing is due). With `--health-port` it serves `/health` (its loop's heartbeat) and `/metrics`."""

from typing import Annotated

import typer
from rich.console import Console

from neot.settings import get_settings

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
) -> None:
    """Segment and score each device's new samples as ingestion marks them (safe to run several)."""
    import signal
    import threading

    from models import make_engine, make_session_factory
    from neot.db import database_errors
    from scoring_service.monitoring import HealthServer, Heartbeat
    from scoring_service.worker import DirtyDevices
    from scoring_service.worker.service import ScoreWorker

    url = get_settings().database_url
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
            worker = ScoreWorker(sessions, DirtyDevices(sessions), settle_s=settle_s, batch=batch)
            stored = worker.run(poll_s=poll_s, stop=stop, heartbeat=heartbeat, once=once)
        finally:
            engine.dispose()
            if server is not None:
                server.close()
    _console.print(f"score worker stopped: {stored} new trip(s) stored")


def register(app: typer.Typer) -> None:
    """Add `score-worker` to the root command."""
    app.command("score-worker")(score_worker)

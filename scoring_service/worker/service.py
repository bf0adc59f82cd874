"""The score worker: scores devices as their data arrives, until stopped (`neot score-worker`).

Each step takes the devices its `WorkSource` says are due, scores each in its own transaction
(`scoring.score_device` under the device's policy product) and tells the source when to look
again: never while no new data comes, or, with a trip still open, once it would count as ended
(`settle_s` after its last sample). A device that fails to score is logged, counted and retried
after `retry_s`; the others go on. The database being away ends the step, not the worker.
"""

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

import structlog
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from scoring_service.monitoring import DEVICES_SCORED, SCORING_BACKLOG, SCORING_ERRORS, TRIPS_SCORED, Heartbeat
from scoring_service.scoring import DEFAULT_SETTLE_S, DeviceScoring, product_for_device, score_device
from scoring_service.speedlimits import SpeedLimitProvider, default_speed_limits
from scoring_service.worker._source import DueDevice, WorkSource

__all__ = ["ScoreWorker", "StepResult"]

_log = structlog.get_logger(__name__)


@dataclass(frozen=True, slots=True)
class StepResult:
    """What one step did."""

    devices: int  # taken from the source
    trips: int  # new trips stored
    failed: int  # devices whose scoring failed (retried later)


class ScoreWorker:
    """Scores the devices `source` hands out, over `sessions`."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        source: WorkSource,
        *,
        settle_s: float = DEFAULT_SETTLE_S,
        batch: int = 32,
        retry_s: float = 60.0,
        speed_limits: SpeedLimitProvider | None = None,
        clock: Callable[[], int] = time.time_ns,
    ) -> None:
        self._sessions = sessions
        self._source = source
        self._settle_ns = round(settle_s * 1e9)
        self._batch = batch
        self._retry_ns = round(retry_s * 1e9)
        self._speed_limits = speed_limits or default_speed_limits()
        self._clock = clock

    def step(self) -> StepResult:
        """Score the devices due now (at most `batch`)."""
        now_ns = self._clock()
        items = self._source.take(limit=self._batch, now_ns=now_ns)
        trips = failed = 0
        for item in items:
            try:
                result = self._score(item, now_ns)
            except OperationalError:
                raise  # the database is away: nothing else will work either
            except Exception:
                failed += 1
                SCORING_ERRORS.inc()
                _log.exception("scoring a device failed; retrying later", device_id=item.device_id)
                self._source.finish(item, revisit_at_ns=now_ns + self._retry_ns)
                continue
            trips += len(result.new_trip_ids)
            revisit = None
            if result.open_trip_start_ns is not None and result.last_sample_ns is not None:
                revisit = result.last_sample_ns + self._settle_ns  # when the open trip counts as ended
            self._source.finish(item, revisit_at_ns=revisit)
        SCORING_BACKLOG.set(self._source.backlog(now_ns=now_ns))
        return StepResult(devices=len(items), trips=trips, failed=failed)

    def _score(self, item: DueDevice, now_ns: int) -> DeviceScoring:
        with self._sessions() as session:
            product = product_for_device(session, device_id=item.device_id)
            result = score_device(
                session,
                device_id=item.device_id,
                product=product,
                now_ns=now_ns,
                speed_limits=self._speed_limits,
                settle_s=self._settle_ns / 1e9,
            )
            session.commit()
        DEVICES_SCORED.inc()
        TRIPS_SCORED.inc(len(result.new_trip_ids))
        if result.new_trip_ids:
            _log.info("trips scored", device_id=item.device_id, trips=len(result.new_trip_ids))
        return result

    def run(
        self,
        *,
        poll_s: float = 1.0,
        stop: threading.Event | None = None,
        heartbeat: Heartbeat | None = None,
        once: bool = False,
    ) -> int:
        """Step until `stop` is set (or, with `once`, until nothing is due); the trips stored.

        Idle, it sleeps `poll_s` between steps; a busy step is followed by the next at once. The
        database being unreachable is waited out with backoff (up to a minute)."""
        stop = stop or threading.Event()
        backoff_s, stored = poll_s, 0
        while not stop.is_set():
            try:
                result = self.step()
            except OperationalError as exc:
                _log.warning("database unavailable for scoring", error=type(exc.orig).__name__, retry_in_s=backoff_s)
                if heartbeat is not None:
                    heartbeat.beat("database unavailable")
                stop.wait(backoff_s)
                backoff_s = min(backoff_s * 2, 60.0)
                continue
            backoff_s = poll_s
            stored += result.trips
            if heartbeat is not None:
                heartbeat.beat(f"scored {result.devices} device(s), {result.trips} new trip(s)")
            if result.devices == 0 or result.devices == result.failed:
                if once:
                    break
                stop.wait(poll_s)
        return stored

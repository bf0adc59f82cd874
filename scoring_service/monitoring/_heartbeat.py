"""A loop's heartbeat: the loop beats after each step, `/health` says whether it beat recently.

A process can be up and its loop stuck (a hung connection, a deadlock); liveness is therefore
"the loop finished a step within `stale_after_s`", not "the process answers HTTP".
"""

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

__all__ = ["Heartbeat", "HeartbeatStatus"]


@dataclass(frozen=True, slots=True)
class HeartbeatStatus:
    """What `/health` reports."""

    healthy: bool
    last_beat_age_s: float | None
    detail: str


class Heartbeat:
    """Beaten by the loop's thread, read by the HTTP server's."""

    def __init__(self, *, stale_after_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.stale_after_s = stale_after_s
        self._clock = clock  # seconds, monotonic; a test passes its own to decide staleness exactly
        self._lock = threading.Lock()
        self._last: float | None = None
        self._detail = "starting"

    def beat(self, detail: str = "ok") -> None:
        """The loop finished a step; `detail` says how it went (shown on `/health`)."""
        with self._lock:
            self._last = self._clock()
            self._detail = detail

    def status(self) -> HeartbeatStatus:
        """Healthy when the last beat is at most `stale_after_s` old."""
        with self._lock:
            last, detail = self._last, self._detail
        if last is None:
            return HeartbeatStatus(False, None, detail)
        age = self._clock() - last
        if age > self.stale_after_s:
            return HeartbeatStatus(False, age, f"no step for {age:.0f} s (last: {detail})")
        return HeartbeatStatus(True, age, detail)

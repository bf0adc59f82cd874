"""Replay of a recorded trip (trip CSV or GPX) as if a car were driving it, at real speed or faster.

The whole file is read and checked before the first sample is yielded, so a bad file fails at
start-up with a `TripFileError`, not halfway through a demo. Samples come out with the recorded
gaps divided by `speed`; `speed = 0` replays as fast as the consumer takes them. With
`rebase_time` (the default) the first sample is stamped "now" and the rest keep their recorded
spacing (so an accelerated replay produces times ahead of the wall clock — the recorded
spacing is what scoring needs); without it the recorded times are kept.
"""

import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import protocol
from protocol import Sample
from vehicle_agent.adapters._base import Adapter, AdapterConfigError, AdapterState, AdapterStatus, TripFileError

__all__ = ["ReplayAdapter", "ReplayConfig"]


@dataclass(frozen=True, slots=True)
class ReplayConfig:
    """`path` to a `.csv` or `.gpx` trip; `speed` 1 = real time, 10 = ten times faster, 0 = no
    waiting; `loop` starts over at the end (each lap continues the timeline)."""

    path: Path
    speed: float = 1.0
    loop: bool = False
    rebase_time: bool = True

    def __post_init__(self) -> None:
        if self.speed < 0:
            raise AdapterConfigError(f"replay speed must be >= 0, got {self.speed}")

    @classmethod
    def from_options(cls, options: Mapping[str, Any]) -> "ReplayConfig":
        opts = dict(options)
        if "path" not in opts:
            raise AdapterConfigError("replay adapter needs a path")
        opts["path"] = Path(opts["path"])
        try:
            return cls(**opts)
        except TypeError as exc:
            raise AdapterConfigError(f"replay adapter options: {exc}") from exc


class ReplayAdapter(Adapter):
    """Yields a recorded trip's samples with their recorded timing."""

    kind = "replay"

    def __init__(self, config: ReplayConfig, name: str = "replay") -> None:
        super().__init__(name)
        self._config = config
        try:
            self._trip = protocol.read_trip_file(config.path)
        except protocol.TripFileError as exc:
            raise TripFileError(str(exc)) from exc
        self._state = AdapterState.STARTING
        self._samples = 0

    @classmethod
    def from_options(cls, name: str, options: Mapping[str, Any]) -> "ReplayAdapter":
        return cls(ReplayConfig.from_options(options), name=name)

    @property
    def trip(self) -> list[Sample]:
        """The recorded samples, as read from the file."""
        return list(self._trip)

    def data(self) -> Iterator[Sample]:
        first_ns = self._trip[0].time_ns
        span_ns = self._trip[-1].time_ns - first_ns
        gap_ns = (self._trip[1].time_ns - first_ns) if len(self._trip) > 1 else 1_000_000_000
        origin_ns = time.time_ns() if self._config.rebase_time else first_ns
        started = time.monotonic()
        lap_ns = 0
        self._state = AdapterState.OK
        while not self._stop.is_set():
            for sample in self._trip:
                offset_ns = lap_ns + sample.time_ns - first_ns
                if self._config.speed > 0:
                    due = started + offset_ns / 1e9 / self._config.speed
                    if self._stop.wait(max(0.0, due - time.monotonic())):
                        break
                elif self._stop.is_set():
                    break
                self._samples += 1
                yield sample._replace(time_ns=origin_ns + offset_ns)
            else:
                if self._config.loop:
                    lap_ns += span_ns + gap_ns
                    continue
                self._state = AdapterState.FINISHED
                return
        self._state = AdapterState.CLOSED

    def status(self) -> AdapterStatus:
        return AdapterStatus(
            name=self.name, kind=self.kind, state=self._state, samples=self._samples,
            info={"path": str(self._config.path), "trip_samples": str(len(self._trip)),
                  "speed": str(self._config.speed)},
        )  # fmt: skip

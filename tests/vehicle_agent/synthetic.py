"""A synthetic adapter for agent tests (named as such: it stands for no real sensor).

It reads the wall clock at `rate_hz` and derives every value from the sample's time slot, so a
sample's content identifies it: the crash test compares what the server holds with what was taken.
"""

import time
from collections.abc import Iterator

from protocol import Sample
from vehicle_agent.adapters import Adapter, AdapterState, AdapterStatus


def values_for(slot: int) -> dict[str, float | int]:
    return {
        "lat": 60.0 + (slot % 100_000) * 1e-6,
        "lon": 24.0 + (slot % 77_777) * 1e-6,
        "speed_kmh": float(slot % 130),
        "rpm": 800.0 + (slot % 4000),
        "satellites": slot % 13,
    }


class SyntheticAdapter(Adapter):
    kind = "synthetic"

    def __init__(self, name: str = "synthetic", *, rate_hz: int = 10, count: int | None = None, nan_every: int = 0):
        super().__init__(name)
        self.period_ns = 1_000_000_000 // rate_hz
        self.count = count
        self.nan_every = nan_every
        self.yielded = 0

    def data(self) -> Iterator[Sample]:
        while not self.closed and (self.count is None or self.yielded < self.count):
            slot = time.time_ns() // self.period_ns
            values = values_for(slot)
            if self.nan_every and self.yielded % self.nan_every == 0:
                values["rpm"] = float("nan")
            yield Sample(slot * self.period_ns, **values)  # type: ignore[arg-type]
            self.yielded += 1
            next_slot_ns = (slot + 1) * self.period_ns
            self._stop.wait(max(0.0, (next_slot_ns - time.time_ns()) / 1e9))

    def status(self) -> AdapterStatus:
        state = AdapterState.CLOSED if self.closed else AdapterState.OK
        return AdapterStatus(name=self.name, kind=self.kind, state=state, samples=self.yielded)

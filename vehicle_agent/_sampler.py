"""The sampler: adapters' readings merged by time into one stream of samples at 1-10 Hz.

Each adapter's `data()` runs on its own thread and hands readings to one queue. Readings fall
into time slots of 1/rate seconds (by their own `time_ns`, so a replay at any speed merges the
same way as a live drive). A slot closes once every running adapter has reported past its end,
or `max_delay_s` of wall time after its first reading (a stalled adapter delays nobody for
long). A closed slot becomes one `Sample`: the time of its earliest reading (to the millisecond)
and, per field, the latest value any adapter gave in the slot. A reading is used once; nothing is repeated to fill
slots, so a 1 Hz GPS under a 10 Hz OBD fills lat/lon in one sample in ten.

Values that are not finite numbers (or beyond the wire range) become absent, logged once per
adapter and field; readings older than the last emitted sample (a clock stepped back) are
dropped, logged once, and counted.
"""

import queue
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import structlog

from protocol import FIELDS, EncodeError, Sample, quantise
from vehicle_agent.adapters import Adapter

__all__ = ["Sampler", "SamplerCounters", "sanitise"]

_log = structlog.get_logger(__name__)
_DONE = object()
_MS = 1_000_000


@dataclass(slots=True)
class SamplerCounters:
    """What the sampler has done since it started."""

    readings: int = 0
    samples: int = 0
    invalid_values: int = 0
    late_readings: int = 0
    adapter_failures: dict[str, str] = field(default_factory=dict)


def sanitise(sample: Sample, on_invalid: Callable[[str, object], None]) -> Sample:
    """`sample` with every value that has no wire encoding (NaN, infinity, out of range, not a
    number) made absent; `on_invalid(field, value)` is told about each."""
    bad: dict[str, None] = {}
    for name in FIELDS:
        value = getattr(sample, name)
        if value is None:
            continue
        try:
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise EncodeError(f"{name}: {value!r} is not a number")
            quantise(name, value)
        except EncodeError:
            bad[name] = None
            on_invalid(name, value)
    return sample._replace(**bad) if bad else sample  # type: ignore[arg-type]


class Sampler:
    """Runs adapters and emits merged samples to `sink` (which must store them durably)."""

    def __init__(
        self,
        adapters: Sequence[Adapter],
        sink: Callable[[Sample], None],
        *,
        rate_hz: int = 10,
        max_delay_s: float = 1.0,
        last_time_ns: int = -1,
    ) -> None:
        self.adapters = list(adapters)
        self._sink = sink
        self.max_delay_s = max_delay_s
        self.set_rate(rate_hz)
        self._period_ns = self._next_period_ns
        self.counters = SamplerCounters()
        self._queue: queue.Queue[tuple[int, object]] = queue.Queue(maxsize=10_000)
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._invalid_logged: set[tuple[str, str]] = set()
        self._last_time_ns = last_time_ns  # samples must stay strictly increasing across restarts

    def set_rate(self, rate_hz: int) -> None:
        """Change the sample rate (1-10 Hz), safe from another thread: the slots open at the old
        rate are closed first, so no reading is lost or reordered by the change."""
        if not 1 <= rate_hz <= 10:
            raise ValueError(f"sample rate must be 1..10 Hz, got {rate_hz}")
        self.rate_hz = rate_hz
        self._next_period_ns = 1_000_000_000 // rate_hz

    def stop(self) -> None:
        """Ask `run` to return after flushing what it holds; closes the adapters."""
        self._stop.set()
        for adapter in self.adapters:
            adapter.close()

    def _feed(self, index: int, adapter: Adapter) -> None:
        try:
            for sample in adapter.data():
                if self._stop.is_set():
                    break
                self._queue.put((index, sample))
        except Exception as exc:  # an adapter bug must not take the agent down: report it, stop feeding
            self.counters.adapter_failures[adapter.name] = f"{type(exc).__name__}: {exc}"
            _log.exception("adapter failed; its data stops", adapter=adapter.name)
        finally:
            self._queue.put((index, _DONE))

    def run(self) -> None:
        """Merge readings until `stop()` or every adapter's data has ended; flush and return."""
        running = set(range(len(self.adapters)))
        for i, adapter in enumerate(self.adapters):
            t = threading.Thread(target=self._feed, args=(i, adapter), name=f"adapter-{adapter.name}", daemon=True)
            t.start()
            self._threads.append(t)
        watermark: dict[int, int] = {}
        slots: dict[int, list[Sample]] = {}  # slot number -> readings
        opened_at: dict[int, float] = {}  # slot number -> monotonic time of its first reading
        while running and not self._stop.is_set():
            if self._next_period_ns != self._period_ns:
                for slot in sorted(slots):
                    opened_at.pop(slot)
                    self._emit(slots.pop(slot))
                self._period_ns = self._next_period_ns
            try:
                index, item = self._queue.get(timeout=0.05)
            except queue.Empty:
                pass
            else:
                if item is _DONE:
                    running.discard(index)
                    watermark.pop(index, None)
                elif isinstance(item, Sample):
                    self.counters.readings += 1
                    self._accept(self.adapters[index].name, item, slots, opened_at)
                    watermark[index] = max(watermark.get(index, item.time_ns), item.time_ns)
            self._close_slots(slots, opened_at, watermark, running)
        self._flush_queue(slots, opened_at)
        for slot in sorted(slots):
            self._emit(slots.pop(slot))

    def _accept(self, adapter: str, reading: Sample, slots: dict[int, list[Sample]], opened: dict[int, float]) -> None:
        reading = sanitise(reading, lambda name, value: self._invalid(adapter, name, value))
        if reading.time_ns <= self._last_time_ns:
            self.counters.late_readings += 1
            if self.counters.late_readings == 1:
                _log.warning("reading older than the last sample dropped (clock stepped back?)", adapter=adapter)
            return
        slot = reading.time_ns // self._period_ns
        slots.setdefault(slot, []).append(reading)
        opened.setdefault(slot, time.monotonic())

    def _invalid(self, adapter: str, name: str, value: object) -> None:
        self.counters.invalid_values += 1
        if (adapter, name) not in self._invalid_logged:
            self._invalid_logged.add((adapter, name))
            _log.warning("invalid value made absent", adapter=adapter, field=name, value=repr(value))

    def _close_slots(
        self,
        slots: dict[int, list[Sample]],
        opened: dict[int, float],
        watermark: dict[int, int],
        running: set[int],
    ) -> None:
        if not slots:
            return
        # Every running adapter must have passed the slot's end (one still connecting has not),
        # unless the slot has waited max_delay_s already.
        low = min((watermark.get(i, -1) for i in running), default=None)
        now = time.monotonic()
        for slot in sorted(slots):
            end_ns = (slot + 1) * self._period_ns
            if low is None or low >= end_ns or now - opened[slot] >= self.max_delay_s:
                opened.pop(slot)
                self._emit(slots.pop(slot))
            else:
                break

    def _flush_queue(self, slots: dict[int, list[Sample]], opened: dict[int, float]) -> None:
        while True:
            try:
                index, item = self._queue.get_nowait()
            except queue.Empty:
                return
            if isinstance(item, Sample):
                self.counters.readings += 1
                self._accept(self.adapters[index].name, item, slots, opened)

    def _emit(self, readings: list[Sample]) -> None:
        readings.sort(key=lambda s: s.time_ns)
        merged: dict[str, object] = {}
        for reading in readings:
            merged.update({k: v for k, v in zip(FIELDS, reading[1:], strict=True) if v is not None})
        # Millisecond resolution: ample for 1-10 Hz driving data, and the wire's delta-encoded
        # times then compress to a fraction of their nanosecond form (see benchmarks/protocol_wire.py).
        time_ns = max(readings[0].time_ns // _MS * _MS, self._last_time_ns // _MS * _MS + _MS)
        if time_ns >= (readings[0].time_ns // self._period_ns + 1) * self._period_ns:
            self.counters.late_readings += len(readings)
            return
        sample = Sample(time_ns, **merged)  # type: ignore[arg-type]
        self._sink(sample)
        self._last_time_ns = time_ns
        self.counters.samples += 1

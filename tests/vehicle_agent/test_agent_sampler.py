"""The sampler: merging adapters by time at the configured rate, invalid values, late readings."""

import math
import threading
import time
from collections.abc import Iterator, Sequence

from structlog.testing import capture_logs

from protocol import Sample
from vehicle_agent import Sampler, sanitise
from vehicle_agent.adapters import Adapter, AdapterState, AdapterStatus

S = 1_000_000_000
T0 = 1_767_225_600 * S


class ListAdapter(Adapter):
    """Test adapter replaying an in-memory list of readings as fast as it is read (synthetic)."""

    kind = "list"

    def __init__(self, name: str, readings: Sequence[Sample], gate: threading.Event | None = None) -> None:
        super().__init__(name)
        self.readings = readings
        self.gate = gate

    def data(self) -> Iterator[Sample]:
        if self.gate is not None:
            self.gate.wait(5)  # a slow start, like an ELM327 connecting
        yield from self.readings

    def status(self) -> AdapterStatus:
        return AdapterStatus(self.name, self.kind, AdapterState.OK)


def run(adapters: Sequence[Adapter], rate_hz: int = 10, last_time_ns: int = -1) -> list[Sample]:
    out: list[Sample] = []
    Sampler(adapters, out.append, rate_hz=rate_hz, last_time_ns=last_time_ns).run()
    return out


def test_obd_at_10hz_and_gps_at_1hz_merge_without_repeating() -> None:
    obd = [Sample(T0 + i * S // 10 + 3_000_000, speed_kmh=float(i), rpm=1000.0 + i) for i in range(30)]
    gps = [Sample(T0 + i * S + 50_000_000, lat=60.0 + i / 1e4, lon=24.0, satellites=8) for i in range(3)]
    out = run([ListAdapter("obd", obd), ListAdapter("gps", gps)])
    assert len(out) == 30
    assert [s.time_ns for s in out] == [r.time_ns for r in obd]  # the earliest reading's time
    with_fix = [s for s in out if s.lat is not None]
    assert [s.speed_kmh for s in with_fix] == [0.0, 10.0, 20.0]  # the GPS fix lands in its own slot only
    assert with_fix[1] == Sample(obd[10].time_ns, lat=60.0001, lon=24.0, satellites=8, speed_kmh=10.0, rpm=1010.0)


def test_lower_rate_keeps_the_latest_value_per_field() -> None:
    obd = [Sample(T0 + i * S // 10, speed_kmh=float(i)) for i in range(20)]
    out = run([ListAdapter("obd", obd)], rate_hz=1)
    assert [(s.time_ns, s.speed_kmh) for s in out] == [(T0, 9.0), (T0 + S, 19.0)]


def test_times_strictly_increase_across_a_restart() -> None:
    obd = [Sample(T0 + i * S // 10, speed_kmh=float(i)) for i in range(10)]
    out = run([ListAdapter("obd", obd)], last_time_ns=T0 + 5 * S // 10)
    assert [s.speed_kmh for s in out] == [6.0, 7.0, 8.0, 9.0]


def test_clock_stepping_back_drops_and_logs_once() -> None:
    readings = [Sample(T0 + 10 * S, speed_kmh=1.0), Sample(T0 + 11 * S, speed_kmh=2.0)]
    readings += [Sample(T0 + i * S, speed_kmh=3.0) for i in range(5)]
    sampler_out: list[Sample] = []
    sampler = Sampler([ListAdapter("obd", readings)], sampler_out.append, rate_hz=1, max_delay_s=0.0)
    with capture_logs() as logs:
        sampler.run()
    assert [s.speed_kmh for s in sampler_out] == [1.0, 2.0]
    assert sampler.counters.late_readings == 5
    assert [e["event"] for e in logs] == ["reading older than the last sample dropped (clock stepped back?)"]


def test_nan_and_out_of_range_values_become_absent_logged_once() -> None:
    readings = [Sample(T0 + i * S // 10, speed_kmh=math.nan, rpm=float(i), coolant_c=1e300) for i in range(5)]
    sampler_out: list[Sample] = []
    sampler = Sampler([ListAdapter("obd", readings)], sampler_out.append)
    with capture_logs() as logs:
        sampler.run()
    assert [s.present() for s in sampler_out][1] == {"time_ns": T0 + S // 10, "rpm": 1.0}
    assert sampler.counters.invalid_values == 10
    assert sorted(e["field"] for e in logs) == ["coolant_c", "speed_kmh"]


def test_sanitise_refuses_non_numbers() -> None:
    seen: list[str] = []
    clean = sanitise(Sample(1, speed_kmh="12", rpm=True, lat=math.inf, lon=24.5), lambda f, v: seen.append(f))  # type: ignore[arg-type]
    assert clean == Sample(1, lon=24.5) and seen == ["lat", "speed_kmh", "rpm"]


def test_a_slot_waits_for_the_slower_adapter() -> None:
    """The GPS reading for slot 0 arrives after OBD has moved on: it still merges into slot 0."""
    gate = threading.Event()
    obd = [Sample(T0 + i * S // 10, speed_kmh=float(i)) for i in range(4)]
    gps = [Sample(T0 + 1, lat=60.0), Sample(T0 + S, lat=61.0)]
    out: list[Sample] = []
    sampler = Sampler([ListAdapter("obd", obd), ListAdapter("gps", gps, gate)], out.append, max_delay_s=5)
    threading.Timer(0.2, gate.set).start()
    sampler.run()
    assert out[0] == Sample(T0, speed_kmh=0.0, lat=60.0)
    assert [s.lat for s in out] == [60.0, None, None, None, 61.0]


def test_a_silent_adapter_delays_slots_by_at_most_max_delay() -> None:
    gate = threading.Event()
    obd = [Sample(T0 + i * S // 10, speed_kmh=float(i)) for i in range(3)]
    out: list[Sample] = []
    sampler = Sampler([ListAdapter("obd", obd), ListAdapter("gps", [], gate)], out.append, max_delay_s=0.1)
    emitted_before_gps: list[int] = []
    threading.Timer(1.0, lambda: (emitted_before_gps.append(len(out)), gate.set())).start()
    sampler.run()
    assert emitted_before_gps == [3] and len(out) == 3


def test_a_failing_adapter_is_reported_not_fatal() -> None:
    class Broken(ListAdapter):
        def data(self) -> Iterator[Sample]:
            yield Sample(T0, rpm=900.0)
            raise RuntimeError("driver bug")

    out: list[Sample] = []
    sampler = Sampler([Broken("obd", []), ListAdapter("gps", [Sample(T0 + S, lat=1.0)])], out.append)
    with capture_logs():
        sampler.run()
    assert [s.present() for s in out] == [{"time_ns": T0, "rpm": 900.0}, {"time_ns": T0 + S, "lat": 1.0}]
    assert sampler.counters.adapter_failures == {"obd": "RuntimeError: driver bug"}


def test_sample_times_have_millisecond_resolution_and_stay_increasing() -> None:
    readings = [Sample(T0 + 123_456_789, rpm=1.0), Sample(T0 + 223_999_999, rpm=2.0)]
    assert [s.time_ns for s in run([ListAdapter("obd", readings)])] == [T0 + 123_000_000, T0 + 223_000_000]
    # After a restart whose last sample sat late in the same millisecond, the next one moves up by 1 ms.
    out = run([ListAdapter("obd", [Sample(T0 + 300_000_500, rpm=3.0)])], last_time_ns=T0 + 300_000_100)
    assert [s.time_ns for s in out] == [T0 + 301_000_000]


def test_a_rate_change_mid_drive_loses_and_reorders_nothing() -> None:
    gate = threading.Event()

    class Pausing(ListAdapter):
        def data(self) -> Iterator[Sample]:
            yield from self.readings[:10]
            gate.wait(5)  # the server's Configure arrives here
            yield from self.readings[10:]

    readings = [Sample(T0 + i * S // 10, speed_kmh=float(i)) for i in range(20)]
    out: list[Sample] = []
    sampler = Sampler([Pausing("obd", readings)], out.append, rate_hz=10, max_delay_s=5)
    runner = threading.Thread(target=sampler.run)
    runner.start()
    while sampler.counters.readings < 10:
        time.sleep(0.01)
    sampler.set_rate(5)
    gate.set()
    runner.join(10)
    assert sampler.counters.late_readings == 0
    speeds = [s.speed_kmh for s in out]
    times = [s.time_ns for s in out]
    assert times == sorted(set(times))
    assert speeds[:10] == [float(i) for i in range(10)]  # the 10 Hz slots, all closed by the change
    assert speeds[-4:] == [13.0, 15.0, 17.0, 19.0]  # then 5 Hz: the latest of each pair
    assert 11.0 in speeds  # the first 5 Hz slot (reading 10 may have been taken just before the change)

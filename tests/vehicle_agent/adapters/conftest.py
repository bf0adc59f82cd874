"""Real devices for the adapter tests: ELM327-emulator cars (pty and TCP) and gpsfake."""

import queue
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from demo.emulated_car import EmulatedCar
from protocol import Sample
from vehicle_agent.adapters import Adapter

#: Every emulator test runs against both transports the agent supports for an ELM327.
TRANSPORTS = ["tcp", "pty"]


class Feed:
    """Runs an adapter's `data()` on a thread, as the sampler does, and keeps what it yields;
    an exception escaping `data()` is kept too (and fails `stop()`)."""

    def __init__(self, adapter: Adapter) -> None:
        self.adapter = adapter
        self.samples: queue.Queue[Sample] = queue.Queue()
        self.error: BaseException | None = None
        self.finished = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        try:
            for sample in self.adapter.data():
                self.samples.put(sample)
        except BaseException as exc:  # recorded for the test to assert on
            self.error = exc
        finally:
            self.finished.set()

    def take(self, n: int, timeout_s: float = 20.0) -> list[Sample]:
        """The next `n` samples (fails the test if they do not come in `timeout_s`)."""
        out: list[Sample] = []
        deadline = time.monotonic() + timeout_s
        while len(out) < n:
            try:
                out.append(self.samples.get(timeout=max(0.01, deadline - time.monotonic())))
            except queue.Empty:
                pytest.fail(f"only {len(out)} of {n} samples in {timeout_s}s; status {self.adapter.status()}")
        return out

    def drain(self) -> list[Sample]:
        out: list[Sample] = []
        while not self.samples.empty():
            out.append(self.samples.get_nowait())
        return out

    def stop(self) -> None:
        self.adapter.close()
        assert self.finished.wait(15), "data() did not return after close()"
        assert self.error is None, f"data() raised {self.error!r}"


def wait_until(check: Callable[[], bool], timeout_s: float = 20.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


@pytest.fixture
def feed() -> Iterator[Callable[[Adapter], Feed]]:
    feeds: list[Feed] = []

    def start(adapter: Adapter) -> Feed:
        f = Feed(adapter)
        feeds.append(f)
        return f

    yield start
    for f in feeds:
        f.stop()


@pytest.fixture(params=TRANSPORTS)
def frozen_car(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[EmulatedCar]:
    """The aggressive car frozen 20 s into its drive (93.6 km/h): every reply is known."""
    with EmulatedCar.start(
        "aggressive", request.param, time_scale=0.0, start_s=20.0, log_path=tmp_path / "elm.log"
    ) as car:
        yield car


@pytest.fixture
def tcp_car(tmp_path: Path) -> Iterator[EmulatedCar]:
    """A car driving its calm profile in real time, on TCP (it can be restarted on its port)."""
    with EmulatedCar.start("calm", "tcp", start_s=20.0, log_path=tmp_path / "elm.log") as car:
        yield car


@pytest.fixture(scope="session")
def gpsfake_bin() -> str:
    path = shutil.which("gpsfake")
    if path is None:
        pytest.fail("gpsfake is missing: run scripts/system-deps.sh (Debian gpsd, gpsd-tools, gpsd-clients)")
    return path

"""docker-compose.yml as processes on this machine: the same commands and the same environment
variables, with what the test must change and nothing else.

Containers cannot run here, so `tests/e2e/test_production_shape.py` starts each compose service
with the argv this module derives from the service's own `command` (the program taken from this
environment's `bin/`, published ports mapped to free ones, `0.0.0.0` bound as `127.0.0.1`) and
an environment with exactly the service's variables (values for this machine). PostgreSQL and
neo-go are the two images not built from this repository: a schema of the test PostgreSQL and
`neot chain up` stand in for them. `tests/deploy/test_compose.py` fails when compose gains a
service this plan does not run.
"""

import itertools
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

__all__ = [
    "COMPOSE_FILE",
    "LONG_RUNNING",
    "ONE_SHOT",
    "REPLACED",
    "Processes",
    "command",
    "compose_services",
    "environment",
    "healthcheck",
    "processes",
    "service_ports",
]

COMPOSE_FILE = Path(__file__).resolve().parents[2] / "docker-compose.yml"
_BIN = Path(sys.executable).parent

#: compose services the test replaces, and by what
REPLACED: Mapping[str, str] = {
    "postgres": "a fresh schema of the test PostgreSQL (the `postgres_url` fixture)",
    "neo-go": "`neot chain up` on a free port, in the shared data folder",
}
#: run to completion, in this order, before the others start
ONE_SHOT: tuple[str, ...] = ("migrate", "deploy")
#: started after the one-shot jobs, each then awaited through its own health check
LONG_RUNNING: tuple[str, ...] = ("ingest", "score-worker", "anchorer", "insurer-api")
_PORT_OPTIONS = frozenset({"--port", "--health-port"})


def compose_services() -> dict[str, dict[str, Any]]:
    """The services of docker-compose.yml, YAML anchors and merge keys resolved."""
    services: dict[str, dict[str, Any]] = yaml.safe_load(COMPOSE_FILE.read_text())["services"]
    return services


def service_ports(service: str) -> list[int]:
    """The ports a service's command listens on (`--port`, `--health-port`)."""
    argv = compose_services()[service]["command"]
    return [int(value) for option, value in itertools.pairwise(argv) if option in _PORT_OPTIONS]


def command(service: str, ports: Mapping[int, int]) -> list[str]:
    """The service's command as this machine runs it: program from this environment's `bin/`,
    each listening port mapped through `ports`, bound to loopback."""
    argv: list[str] = list(compose_services()[service]["command"])
    out = [str(_BIN / argv[0])]
    for option, value in itertools.pairwise(argv):
        if option in _PORT_OPTIONS:
            value = str(ports[int(value)])
        elif option == "--host" and value == "0.0.0.0":
            value = "127.0.0.1"
        out.append(value)
    return out


def healthcheck(service: str, ports: Mapping[int, int]) -> list[str]:
    """The service's compose health check (`CMD` form), on the mapped ports, with this Python."""
    test: list[str] = list(compose_services()[service]["healthcheck"]["test"])
    if test[0] != "CMD" or test[1] != "python":
        raise ValueError(f"{service}: health check {test} is not a `CMD python …` check")
    argv = [sys.executable, *test[2:]]
    for compose_port, port in ports.items():
        argv = [arg.replace(f"127.0.0.1:{compose_port}/", f"127.0.0.1:{port}/") for arg in argv]
    return argv


def environment(service: str, values: Mapping[str, str]) -> dict[str, str]:
    """This process's environment without NEOT_* variables, plus exactly the service's compose
    variables with the values given (a variable compose sets and `values` lacks is an error)."""
    wanted = compose_services()[service].get("environment", {})
    missing = sorted(set(wanted) - set(values))
    if missing:
        raise KeyError(f"{service} sets {missing} in compose; the test gives no value for them")
    base = {k: v for k, v in os.environ.items() if not k.startswith("NEOT_")}
    return base | {name: values[name] for name in wanted}


class Processes:
    """Long-running children, each in its own session and with its own log, stopped together."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.started: dict[str, list[str]] = {}
        self._children: dict[str, subprocess.Popen[bytes]] = {}

    def start(self, name: str, argv: list[str], env: Mapping[str, str]) -> None:
        with (self.log_dir / f"{name}.log").open("ab") as log:
            self._children[name] = subprocess.Popen(
                argv,
                env=dict(env),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        self.started[name] = argv

    def wait_healthy(self, name: str, check: list[str], timeout_s: float = 90.0) -> None:
        """Run the health check until it passes; fail with the service's log if it never does."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self._children[name].poll() is not None:
                raise AssertionError(f"{name} exited with {self._children[name].returncode}:\n{self.log(name)}")
            if subprocess.run(check, capture_output=True, timeout=30).returncode == 0:
                return
            time.sleep(0.25)
        raise AssertionError(f"{name} never passed its health check {check}:\n{self.log(name)}")

    def log(self, name: str) -> str:
        return (self.log_dir / f"{name}.log").read_text(errors="replace")[-4000:]

    def stop(self) -> None:
        for child in self._children.values():
            if child.poll() is None:
                os.killpg(child.pid, signal.SIGTERM)
        for child in self._children.values():
            try:
                child.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(child.pid, signal.SIGKILL)
                child.wait()


@contextmanager
def processes(log_dir: Path) -> Iterator[Processes]:
    """`Processes` whose children are stopped however the block ends."""
    running = Processes(log_dir)
    try:
        yield running
    finally:
        running.stop()

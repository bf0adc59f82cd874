"""Child processes the demo starts (chain node, API server, emulators, agents), stopped together.

Each child runs in its own session so that stopping it also stops what it spawned; on exit — normal,
error or Ctrl-C — every child gets SIGTERM, then SIGKILL after a grace period, so no process outlives
the demo and no port stays taken. Should the demo itself be killed outright (SIGKILL gives it no
chance to clean up), Linux's parent-death signal still sends each child SIGTERM.
"""

import contextlib
import ctypes
import os
import signal
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType
from typing import Self

__all__ = ["Supervisor"]

_PR_SET_PDEATHSIG = 1


class Supervisor:
    """Starts child processes and guarantees they are gone when the `with` block ends."""

    def __init__(self, log_dir: Path, grace_s: float = 5.0) -> None:
        self._log_dir = log_dir
        self._grace_s = grace_s
        self._children: list[tuple[str, subprocess.Popen[bytes]]] = []

    def start(self, name: str, argv: Sequence[str], env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
        """Start `argv` with its output in `<log_dir>/<name>.log`."""
        self._log_dir.mkdir(parents=True, exist_ok=True)
        log = (self._log_dir / f"{name}.log").open("ab")
        try:
            child = subprocess.Popen(
                list(argv),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, **(env or {})},
                start_new_session=True,
                preexec_fn=_terminate_with_parent,
            )
        finally:
            log.close()
        self._children.append((name, child))
        return child

    @property
    def pids(self) -> dict[str, int]:
        """Name → pid of every child started so far."""
        return {name: child.pid for name, child in self._children}

    def stop_all(self) -> None:
        """SIGTERM every child's process group, then SIGKILL whatever is left after the grace period."""
        for _, child in reversed(self._children):
            _signal_group(child, signal.SIGTERM)
        deadline = time.monotonic() + self._grace_s
        for _, child in reversed(self._children):
            try:
                child.wait(timeout=max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _signal_group(child, signal.SIGKILL)
                child.wait()
        self._children.clear()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop_all()


def _terminate_with_parent() -> None:
    """In the child, before exec: ask Linux for SIGTERM when the parent dies (PR_SET_PDEATHSIG)."""
    if sys.platform == "linux":
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


def _signal_group(child: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    if child.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):  # it exited between poll() and killpg()
        os.killpg(child.pid, sig)

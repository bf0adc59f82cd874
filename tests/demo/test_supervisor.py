"""The demo's supervisor leaves no process behind, whatever way the demo ends."""

import os
import sys
import time
from pathlib import Path

import pytest

from demo._processes import Supervisor


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie still answers kill(0); it is gone for our purpose once reaped or marked Z
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split()[2] != "Z"


def test_children_and_their_children_are_stopped_on_error(tmp_path: Path) -> None:
    spawner = (
        "import subprocess, sys, time; p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)']);"
        "print(p.pid, flush=True); time.sleep(60)"
    )
    grandchild_file = tmp_path / "logs" / "parent.log"
    with pytest.raises(RuntimeError, match="demo failed"), Supervisor(tmp_path / "logs", grace_s=2) as sup:
        sup.start("sleeper", [sys.executable, "-c", "import time; time.sleep(60)"])
        sup.start("parent", [sys.executable, "-c", spawner])
        pids = sup.pids
        for _ in range(100):
            if grandchild_file.read_text().strip():
                break
            time.sleep(0.05)
        grandchild = int(grandchild_file.read_text().split()[0])
        assert _alive(grandchild)
        raise RuntimeError("demo failed")
    for pid in (*pids.values(), grandchild):
        for _ in range(50):
            if not _alive(pid):
                break
            time.sleep(0.05)
        assert not _alive(pid), f"pid {pid} survived the supervisor"


def test_a_child_that_ignores_sigterm_is_killed(tmp_path: Path) -> None:
    stubborn = (
        "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('ready', flush=True); time.sleep(60)"
    )
    with Supervisor(tmp_path, grace_s=0.5) as sup:
        child = sup.start("stubborn", [sys.executable, "-c", stubborn])
        for _ in range(100):
            if (tmp_path / "stubborn.log").read_text().strip() == "ready":
                break
            time.sleep(0.05)
    assert child.returncode == -9


def test_children_get_sigterm_when_the_demo_is_killed_outright(tmp_path: Path) -> None:
    """SIGKILL leaves the supervisor no chance to clean up; the parent-death signal still stops its children."""
    import signal
    import subprocess

    script = (
        "import sys, time; from pathlib import Path; from demo._processes import Supervisor;"
        f"sup = Supervisor(Path({str(tmp_path)!r}));"
        "child = sup.start('sleeper', [sys.executable, '-c', 'import time; time.sleep(60)']);"
        "print(child.pid, flush=True); time.sleep(60)"
    )
    demo = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert demo.stdout is not None
    child_pid = int(demo.stdout.readline())
    assert _alive(child_pid)
    demo.send_signal(signal.SIGKILL)
    demo.wait()
    demo.stdout.close()
    for _ in range(100):
        if not _alive(child_pid):
            break
        time.sleep(0.05)
    assert not _alive(child_pid), "the child outlived its killed parent"

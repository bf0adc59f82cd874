"""`neot chain up|down|status` through the real console script: a persistent node in the
background, clear errors, and never a neo-go process left behind (checked by pid in /proc)."""

import asyncio
import json
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from chain import ChainClient, NeoGoNode, NodeBinaryMissing, committee_account, deploy_neot, find_free_port
from chain import node as node_module

pytestmark = pytest.mark.chain

NEOT_CLI = str(Path(sys.executable).parent / "neot")


def _neot(*args: str, timeout_s: float = 60) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NEOT_LOG_FORMAT": "console"}
    return subprocess.run([NEOT_CLI, *args], capture_output=True, text=True, timeout=timeout_s, env=env, check=False)


def _neogo_pids(home: Path) -> set[int]:
    """Live neo-go processes whose command line points into `home`."""
    pids = set()
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes()
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z" and b"neogo" in cmdline and str(home).encode() in cmdline:
            pids.add(int(entry.name))
    return pids


def _pid_alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.fixture
def chain_dir(tmp_path: Path) -> Iterator[Path]:
    """A chain folder whose node is always stopped afterwards, whatever the test did."""
    folder = tmp_path / "chain"
    yield folder
    for pid in _neogo_pids(folder):
        node_module.stop_pid(pid, timeout_s=5)


def test_up_status_down_persist_and_leave_nothing_behind(chain_dir: Path) -> None:
    port = find_free_port()
    started = _neot("chain", "up", "--data-dir", str(chain_dir), "--rpc-port", str(port))
    assert started.returncode == 0, started.stderr
    pid = int((chain_dir / "node" / "neogo.pid").read_text())
    assert _pid_alive(pid)
    assert _neogo_pids(chain_dir) == {pid}
    assert f"127.0.0.1:{port}" in started.stdout

    again = _neot("chain", "up", "--data-dir", str(chain_dir), "--rpc-port", str(port))
    assert again.returncode == 2
    assert "already running" in again.stderr
    assert _neogo_pids(chain_dir) == {pid}

    report = asyncio.run(deploy_neot(f"http://127.0.0.1:{port}", chain_dir, committee_account(), fast_kdf=True))
    insurer = report.deployment.address("insurer-1")
    client = ChainClient.from_deployment(report.deployment)
    keys = report.deployment.keyring()
    asyncio.run(client.lock_job(keys.account("insurer-1"), "job-before-restart", keys.account("shop-1").address, 42))

    stopped = _neot("chain", "down", "--data-dir", str(chain_dir))
    assert stopped.returncode == 0, stopped.stderr
    assert not _pid_alive(pid)
    assert _neogo_pids(chain_dir) == set()
    assert not (chain_dir / "node" / "neogo.pid").exists()

    # BoltDB keeps the chain: after a restart the contracts and balances are still there
    assert _neot("chain", "up", "--data-dir", str(chain_dir), "--rpc-port", str(port)).returncode == 0
    status = _neot("chain", "status", "--data-dir", str(chain_dir), "--json")
    assert status.returncode == 0, status.stderr
    state = json.loads(status.stdout)
    assert {name: info["deployed"] for name, info in state["contracts"].items()} == {
        "neot_token": True,
        "score_anchor": True,
        "escrow": True,
    }
    assert state["accounts"]["insurer-1"]["address"] == insurer
    assert state["accounts"]["insurer-1"]["neot"] == 1_000_000 * 10**8 - 42
    assert state["contracts"]["escrow"]["neot"] == 42
    second_pid = state["node_pid"]
    assert _neot("chain", "down", "--data-dir", str(chain_dir)).returncode == 0
    assert not _pid_alive(second_pid)
    assert _neogo_pids(chain_dir) == set()

    not_running = _neot("chain", "down", "--data-dir", str(chain_dir))
    assert not_running.returncode == 2
    assert "no node" in not_running.stderr


def test_port_taken_is_a_clear_error_without_a_process(chain_dir: Path) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        port = sock.getsockname()[1]
        result = _neot("chain", "up", "--data-dir", str(chain_dir), "--rpc-port", str(port))
    assert result.returncode == 2
    assert "already in use" in result.stderr
    assert _neogo_pids(chain_dir) == set()


def test_rpc_that_never_answers_in_time_leaves_no_process(chain_dir: Path) -> None:
    result = _neot("chain", "up", "--data-dir", str(chain_dir), "--rpc-port", str(find_free_port()), "--timeout", "0")
    assert result.returncode == 2
    assert "did not answer" in result.stderr
    assert _neogo_pids(chain_dir) == set()
    assert not (chain_dir / "node" / "neogo.pid").exists()


def test_status_without_deployment_is_a_clear_error(chain_dir: Path) -> None:
    result = _neot("chain", "status", "--data-dir", str(chain_dir))
    assert result.returncode == 2
    assert "no deployment" in result.stderr


def test_missing_binary_is_reported(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Fake: an installation without boa-test-constructor cannot be produced inside this venv.
    monkeypatch.setattr(node_module, "find_spec", lambda _name: None)
    node = NeoGoNode(tmp_path, rpc_port=find_free_port(), persistent=False)
    with pytest.raises(NodeBinaryMissing, match="boa-test-constructor is not installed"):
        node.start()
    assert _neogo_pids(tmp_path) == set()

"""Launch and stop a private single-node neo-go chain.

The binary, its unit-test protocol configuration (network magic 42, 100 ms blocks) and the
consensus wallet come from the `boa-test-constructor` wheel. Each node gets its own home folder
with a copy of that configuration: RPC on the requested 127.0.0.1 port, P2P on 127.0.0.1:0 so
two nodes never clash, and either an in-memory database (tests) or BoltDB in the home folder (a
chain that survives restarts). neo-go writes its log to a file in the home folder, never to a
pipe that nobody reads.

`NeoGoNode` owns its child process: `start()` stops it again if RPC never answers, and `stop()`
sends SIGTERM, then SIGKILL after a timeout. A node started for the command line outlives the
`neot` process; it is found again through the pid file, which is only trusted while that pid is
still a neo-go process.
"""

import errno
import os
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import httpx
import yaml

from chain._errors import NodeAlreadyRunning, NodeBinaryMissing, NodeError, NodeNotRunning, PortInUse

__all__ = [
    "COMMITTEE_WALLET_PASSWORD",
    "NeoGoNode",
    "NodeFiles",
    "find_free_port",
    "neogo_data_dir",
    "port_is_free",
    "running_pid",
    "stop_pid",
]

# The password of the consensus wallet shipped with the test chain configuration. It protects a
# key that is public by construction (a unit-test committee), never a real one.
COMMITTEE_WALLET_PASSWORD = "one"
_CONSENSUS_WALLET = "wallet1_solo.json"
_PROTOCOL_FILE = "protocol.yml"
_PID_FILE = "neogo.pid"
_LOG_FILE = "neogo.log"
_BOLT_FILE = "chain.bolt"


def neogo_data_dir() -> Path:
    """The folder of boa-test-constructor's neo-go binary, protocol config and consensus wallet."""
    spec = find_spec("boaconstructor")
    if spec is None or spec.origin is None:
        raise NodeBinaryMissing("boa-test-constructor is not installed (install the `server` extra)")
    data = Path(spec.origin).parent / "data"
    if not (data / "neogo").is_file():
        raise NodeBinaryMissing(f"no neo-go binary at {data / 'neogo'}")
    return data


def find_free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_is_free(port: int) -> bool:
    """Whether nothing listens on 127.0.0.1:`port` (so a server we start there is the one we reach)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return False
            raise
    return True


@dataclass(frozen=True, slots=True)
class NodeFiles:
    """Where one node keeps its configuration, database, log and pid file."""

    home: Path

    @property
    def protocol(self) -> Path:
        return self.home / _PROTOCOL_FILE

    @property
    def pid(self) -> Path:
        return self.home / _PID_FILE

    @property
    def log(self) -> Path:
        return self.home / _LOG_FILE

    @property
    def consensus_wallet(self) -> Path:
        return self.home / _CONSENSUS_WALLET

    @property
    def database(self) -> Path:
        return self.home / _BOLT_FILE


def _is_neogo(pid: int) -> bool:
    """True while `pid` is a live (not zombie) neo-go process."""
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return False
    state = stat.rsplit(")", 1)[1].split()[0]
    return state != "Z" and b"neogo" in cmdline.split(b"\0")[0]


def running_pid(home: Path) -> int | None:
    """The pid of the node started from `home`, if it still runs; a stale pid file is removed."""
    files = NodeFiles(home)
    try:
        pid = int(files.pid.read_text().strip())
    except FileNotFoundError:
        return None
    except ValueError:
        files.pid.unlink(missing_ok=True)
        return None
    if _is_neogo(pid):
        return pid
    files.pid.unlink(missing_ok=True)
    return None


def stop_pid(pid: int, *, timeout_s: float = 10.0) -> bool:
    """SIGTERM `pid`, SIGKILL it if still alive after `timeout_s`. True if it had to be killed."""
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return False
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if not _is_neogo(pid):
            return False
        time.sleep(0.05)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        return False
    while _is_neogo(pid):
        time.sleep(0.02)
    return True


class NeoGoNode:
    """One private single-node neo-go chain, with RPC on `127.0.0.1:rpc_port`."""

    def __init__(self, home: Path, *, rpc_port: int, persistent: bool) -> None:
        self.files = NodeFiles(home)
        self.rpc_port = rpc_port
        self.persistent = persistent
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def rpc_url(self) -> str:
        return f"http://127.0.0.1:{self.rpc_port}"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def write_config(self) -> None:
        """Write this node's protocol file and consensus wallet into its home folder."""
        data = neogo_data_dir()
        config: dict[str, Any] = yaml.safe_load((data / "protocol.unittest.yml").read_text())
        app = config["ApplicationConfiguration"]
        app["RPC"]["Addresses"] = [f"127.0.0.1:{self.rpc_port}"]
        # deploying the escrow costs more than the default 15 GAS test-invocation budget allows
        app["RPC"]["MaxGasInvoke"] = 100
        app["P2P"]["Addresses"] = ["127.0.0.1:0"]
        app["Oracle"]["Enabled"] = False
        app["LogPath"] = str(self.files.log)
        if self.persistent:
            app["DBConfiguration"] = {"Type": "boltdb", "BoltDBOptions": {"FilePath": str(self.files.database)}}
        else:
            app["DBConfiguration"] = {"Type": "inmemory"}
        app["Consensus"]["UnlockWallet"]["Path"] = str(self.files.consensus_wallet)
        self.files.home.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(data / _CONSENSUS_WALLET, self.files.consensus_wallet)
        self.files.protocol.write_text(yaml.safe_dump(config, sort_keys=False))

    def start(self, *, timeout_s: float = 30.0) -> None:
        """Start the node and return once its RPC answers `getversion`.

        Raises NodeAlreadyRunning, PortInUse, NodeBinaryMissing, or NodeError if RPC never
        answers (the process is stopped again, so nothing is left behind).
        """
        if (pid := running_pid(self.files.home)) is not None:
            raise NodeAlreadyRunning(f"a node from {self.files.home} is already running (pid {pid})")
        if not port_is_free(self.rpc_port):
            raise PortInUse(f"RPC port 127.0.0.1:{self.rpc_port} is already in use")
        self.write_config()
        binary = neogo_data_dir() / "neogo"
        if not os.access(binary, os.X_OK):
            raise NodeBinaryMissing(f"{binary} is not executable")
        self.files.log.unlink(missing_ok=True)
        self._process = subprocess.Popen(
            [str(binary), "node", "--config-file", str(self.files.protocol), "--relative-path", str(self.files.home)],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        self.files.pid.write_text(f"{self._process.pid}\n")
        try:
            self._wait_for_rpc(timeout_s)
        except BaseException:
            self.stop()
            raise

    def _wait_for_rpc(self, timeout_s: float) -> None:
        assert self._process is not None
        deadline = time.monotonic() + timeout_s
        request = {"jsonrpc": "2.0", "id": 1, "method": "getversion", "params": []}
        with httpx.Client(timeout=1.0) as http:
            while time.monotonic() < deadline:
                if self._process.poll() is not None:
                    raise NodeError(f"neo-go exited with code {self._process.returncode}: {self._log_tail()}")
                try:
                    if http.post(self.rpc_url, json=request).json().get("result"):
                        return
                except (httpx.TransportError, ValueError):
                    pass
                time.sleep(0.05)
        raise NodeError(f"neo-go RPC did not answer within {timeout_s:.0f} s: {self._log_tail()}")

    def _log_tail(self, lines: int = 5) -> str:
        try:
            text = self.files.log.read_text(errors="replace")
        except FileNotFoundError:
            return "no log written"
        return " | ".join(text.strip().splitlines()[-lines:]) or "empty log"

    def stop(self, *, timeout_s: float = 10.0) -> None:
        """Stop the node (SIGTERM, then SIGKILL after `timeout_s`) and remove its pid file."""
        process = self._process
        if process is None:
            pid = running_pid(self.files.home)
            if pid is None:
                raise NodeNotRunning(f"no node from {self.files.home} is running")
            stop_pid(pid, timeout_s=timeout_s)
        elif process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self._process = None
        self.files.pid.unlink(missing_ok=True)

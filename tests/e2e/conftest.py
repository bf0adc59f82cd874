"""The demo's whole story, run once per test session in a fresh data dir, for the end-to-end
and browser tests: the same `neot demo` a newcomer runs, with fewer days of driving."""

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from chain.node import find_free_port

NEOT = str(Path(sys.executable).with_name("neot"))
DAYS = 4


@dataclass(frozen=True)
class DemoRun:
    """A finished demo: its summary, its environment, and its API served again for reading."""

    summary: dict[str, Any]
    env: dict[str, str]
    data_dir: Path
    api_url: str
    narration: str

    def neot(self, *args: str, timeout_s: float = 300) -> subprocess.CompletedProcess[str]:
        return subprocess.run([NEOT, *args], capture_output=True, text=True, env=self.env, timeout=timeout_s)

    def rpc(self, method: str, *params: Any) -> Any:
        answer = httpx.post(self.summary["rpc_url"], json={"jsonrpc": "2.0", "id": 1, "method": method,
                                                          "params": list(params)}, timeout=10).json()  # fmt: skip
        assert "error" not in answer, answer
        return answer["result"]


# The demo runs inside the first test that asks for it: give those tests the demo's own time limit,
# not pytest's default per-test one (a busy machine takes minutes to tell the story).
DEMO_TIMEOUT_S = 900


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "demo_run" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.timeout(DEMO_TIMEOUT_S + 300))


@pytest.fixture(scope="session")
def demo_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoRun]:
    data_dir = tmp_path_factory.mktemp("demo") / ".neot"
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEOT_")} | {
        "NEOT_DATA_DIR": str(data_dir),
        "NEOT_NEO_RPC_URL": f"http://127.0.0.1:{find_free_port()}",
    }
    port = find_free_port()
    story = subprocess.run([NEOT, "demo", "--no-serve", "--json", "--days", str(DAYS), "--port", str(port)],
                           capture_output=True, text=True, env=env, timeout=DEMO_TIMEOUT_S)  # fmt: skip
    assert story.returncode == 0, story.stderr[-3000:]
    summary = json.loads(story.stdout)
    # the demo stopped what it started; bring the (persistent) chain and the API back to read them
    up = subprocess.run([NEOT, "chain", "up"], capture_output=True, text=True, env=env, timeout=120)
    assert up.returncode == 0, up.stderr
    api = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", "insurer_api.app:create_app", "--host", "127.0.0.1",
         "--port", str(port)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    run = DemoRun(summary, env, data_dir, f"http://127.0.0.1:{port}", story.stderr)
    try:
        for _ in range(300):
            try:
                if httpx.get(f"{run.api_url}/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            subprocess.run(["sleep", "0.1"], check=True)
        yield run
    finally:
        api.terminate()
        api.wait(timeout=20)
        subprocess.run([NEOT, "chain", "down"], capture_output=True, env=env, timeout=60)

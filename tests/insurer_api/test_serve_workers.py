"""`neot api serve --workers N` on PostgreSQL: N processes behind one port, each with a bounded pool.

A real server process tree, real HTTP, real PostgreSQL: the connections the API holds (tagged by
`application_name`) never exceed N x (NEOT_DB_POOL_SIZE + NEOT_DB_MAX_OVERFLOW), however many
requests arrive at once, and a token issued by one worker is good at every other.
"""

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from api_world import ADMIN_PASSWORD, ADMIN_USERNAME, TEST_SECRET_KEY
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

import migrations
from insurer_api.auth import create_user
from models import Role, make_engine, make_session_factory

NEOT = str(Path(sys.executable).with_name("neot"))
WORKERS, POOL, OVERFLOW = 2, 2, 1


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _children(pid: int) -> list[int]:
    """The worker processes uvicorn spawned (not multiprocessing's resource tracker)."""
    found = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        for child in (task / "children").read_text().split():
            if b"spawn_main" in Path(f"/proc/{child}/cmdline").read_bytes():
                found.append(int(child))
    return found


@pytest.mark.slow
def test_workers_share_one_port_and_each_keeps_a_bounded_pool(postgres_url: str, tmp_path: Path) -> None:
    tag = f"neot-workers-{uuid.uuid4().hex[:8]}"
    url = make_url(postgres_url).update_query_dict({"application_name": tag}).render_as_string(hide_password=False)
    migrations.upgrade(url)
    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        create_user(session=session, username=ADMIN_USERNAME, password=ADMIN_PASSWORD, role=Role.ADMIN)
        session.commit()
    engine.dispose()
    port = _free_port()
    env = {
        **os.environ,
        "NEOT_DATABASE_URL": url,
        "NEOT_DATA_DIR": str(tmp_path),
        "NEOT_SECRET_KEY": TEST_SECRET_KEY,
        "NEOT_ENVIRONMENT": "staging",
        "NEOT_DB_POOL_SIZE": str(POOL),
        "NEOT_DB_MAX_OVERFLOW": str(OVERFLOW),
    }
    server = subprocess.Popen(
        [NEOT, "api", "serve", "--port", str(port), "--workers", str(WORKERS)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    admin = create_engine(make_url(postgres_url).set(query={}))
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{base}/health", timeout=1).status_code == 200 and len(_children(server.pid)) >= WORKERS:
                    break
            except httpx.TransportError:
                pass
            assert server.poll() is None and time.monotonic() < deadline, "the API did not start"
            time.sleep(0.2)
        assert len(_children(server.pid)) == WORKERS

        token = httpx.post(f"{base}/v1/auth/token", data={"username": ADMIN_USERNAME, "password": ADMIN_PASSWORD})
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}

        def read(i: int) -> int:
            # a fresh connection each time, so the kernel spreads them over both workers
            path = ("/v1/drivers", "/v1/policies", "/v1/auth/me", "/v1/trips")[i % 4]
            return httpx.get(f"{base}{path}", headers=headers, timeout=30).status_code

        peak = 0
        with ThreadPoolExecutor(max_workers=24) as pool:
            answers = pool.map(read, range(240))
            for _ in range(20):
                with admin.connect() as conn:
                    held = conn.scalar(
                        text("SELECT count(*) FROM pg_stat_activity WHERE application_name = :tag"), {"tag": tag}
                    )
                peak = max(peak, int(held or 0))
                time.sleep(0.05)
            statuses = list(answers)
        assert statuses == [200] * 240
        assert 0 < peak <= WORKERS * (POOL + OVERFLOW)
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        admin.dispose()

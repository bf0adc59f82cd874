"""`neot agent keygen / run / status` as a user runs them, and the agent's import footprint."""

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from neot.cli import app, register_commands
from protocol import DeviceKey
from tests.vehicle_agent.ingest_server import IngestServer

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
NEOT = [sys.executable, "-c", "from neot.cli import main; main()"]
runner = CliRunner()
register_commands()


def test_keygen_writes_an_owner_only_key_and_never_prints_it(tmp_path: Path) -> None:
    out = tmp_path / "keys" / "device.key"
    result = runner.invoke(app, ["agent", "keygen", "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    key = DeviceKey.from_pem(out.read_bytes())
    assert key.address in result.output and key.public_key.hex() in result.output
    assert key.private_bytes().hex() not in result.output and "PRIVATE" not in result.output
    again = runner.invoke(app, ["agent", "keygen", "--out", str(out)])
    assert again.exit_code == 2 and "already exists" in again.output
    assert DeviceKey.from_pem(out.read_bytes()).address == key.address  # not overwritten


def write_config(tmp_path: Path, url: str, adapters: str) -> Path:
    path = tmp_path / "agent.toml"
    path.write_text(f'[agent]\nupload_interval_s = 0.2\n\n[server]\nurl = "{url}"\nmin_backoff_s = 0.05\n\n{adapters}')
    return path


def test_run_replays_a_recorded_drive_and_status_reports_it(tmp_path: Path, ingest: IngestServer) -> None:
    gpx = FIXTURES / "around-visnjan-with-car.gpx"
    config = write_config(tmp_path, ingest.url, f'[[adapters]]\nkind = "replay"\npath = "{gpx}"\nspeed = 0\n')
    keygen = subprocess.run([*NEOT, "agent", "keygen", "--out", str(tmp_path / "device.key")], capture_output=True)
    assert keygen.returncode == 0, keygen.stderr
    run = subprocess.run(
        [*NEOT, "agent", "run", "--config", str(config), "--until-drained"], capture_output=True, timeout=60
    )
    assert run.returncode == 0, run.stderr.decode()[-2000:]
    received = ingest.samples()
    assert len(received) == 104  # every timed point of the recorded drive, once
    assert received[0].lat is not None and received[0].speed_kmh is None
    status = subprocess.run([*NEOT, "agent", "status", "--config", str(config), "--json"], capture_output=True)
    assert status.returncode == 0, status.stderr
    data = json.loads(status.stdout)
    assert data["depth_samples"] == 0 and data["taken_samples"] == 104 and data["dropped_samples"] == 0
    assert data["last_ack_seq"] == max(seq for _, seq in ingest.batches)
    assert data["adapters"] == {"replay": "finished"}
    assert data["device_id"] == DeviceKey.from_pem((tmp_path / "device.key").read_bytes()).address
    table = subprocess.run([*NEOT, "agent", "status", "--config", str(config)], capture_output=True, text=True)
    assert "depth_samples" in table.stdout and "finished" in table.stdout


def test_bad_config_and_key_are_one_line_errors(tmp_path: Path) -> None:
    bad = tmp_path / "agent.toml"
    bad.write_text('[agent]\nsample_rate_hz = 50\n\n[server]\nurl = "ftp://x"\n')
    result = runner.invoke(app, ["agent", "run", "--config", str(bad)])
    assert result.exit_code == 2 and "Traceback" not in result.output  # one line, exit code 2
    assert "agent.sample_rate_hz" in result.output and "server.url" in result.output
    good = write_config(tmp_path, "http://127.0.0.1:9", "")
    result = runner.invoke(app, ["agent", "run", "--config", str(good)])
    assert result.exit_code == 2 and "neot agent keygen" in result.output
    key = tmp_path / "device.key"
    key.write_bytes(DeviceKey.generate().to_pem())
    os.chmod(key, 0o644)
    result = runner.invoke(app, ["agent", "run", "--config", str(good)])
    assert result.exit_code == 2 and "chmod 600" in result.output
    result = runner.invoke(app, ["agent", "status", "--config", str(good)])
    assert result.exit_code == 2 and "no buffer" in result.output


def test_the_agent_imports_no_server_or_chain_code() -> None:
    code = (
        "import sys, vehicle_agent, vehicle_agent.cli, vehicle_agent.adapters, protocol\n"
        "from vehicle_agent import Agent\n"
        "heavy = {'fastapi', 'sklearn', 'neo3', 'boa3', 'sqlalchemy', 'numpy', 'scoring_service', 'insurer_api',"
        " 'models', 'chain', 'uvicorn', 'obd'}\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & heavy))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


def test_unknown_adapter_kind_is_a_one_line_error(tmp_path: Path) -> None:
    config = write_config(tmp_path, "http://127.0.0.1:9", '[[adapters]]\nkind = "can-bus"\n')
    (tmp_path / "device.key").write_bytes(DeviceKey.generate().to_pem())
    os.chmod(tmp_path / "device.key", 0o600)
    result = runner.invoke(app, ["agent", "run", "--config", str(config)])
    assert result.exit_code == 2 and "unknown adapter kind 'can-bus'" in result.output
    assert not (tmp_path / "buffer.sqlite3").exists()


def test_the_agent_starts_in_production_with_no_server_setting(tmp_path: Path) -> None:
    """A car box runs with NEOT_ENVIRONMENT=production and no NEOT_SECRET_KEY: the server's settings
    are never read on the agent's path (they would refuse the missing key)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NEOT_")}
    env["NEOT_ENVIRONMENT"] = "production"
    for argv in ([*NEOT, "agent", "run", "--help"], [sys.executable, "-m", "vehicle_agent", "run", "--help"]):
        result = subprocess.run(argv, capture_output=True, text=True, env=env, cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        assert "Sample the configured adapters" in result.stdout and "NEOT_SECRET_KEY" not in result.stderr
    server = subprocess.run([*NEOT, "db", "status"], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert server.returncode == 2 and "NEOT_SECRET_KEY must be set" in server.stderr  # the server still refuses

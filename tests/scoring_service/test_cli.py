"""`neot score-file`, `neot score-worker --once` and `neot model synth|train`.

Most tests invoke the commands in-process through typer's runner (a fresh `neot` process imports
every component, seconds each on a busy machine); one runs the real console entry point to check
that a bad file ends as a one-line error with exit code 2.
"""

import hashlib
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
import typer
from sqlalchemy import func, select
from typer.testing import CliRunner

import migrations
from models import DirtyDevice, Trip, make_engine, make_session_factory
from neot.errors import UserError
from neot.settings import get_settings
from scoring_service import cli
from scoring_service.speedlimits import DEFAULT_SEGMENTS_FILE
from scoring_service.trips import SampleArrays
from tests.scoring_service.crafted import Leg, simulate
from tests.scoring_service.test_store import add_batch, add_device, two_drives

FIXTURES = Path(__file__).parents[1] / "fixtures"
OPEN_ROAD = (60.30, 25.30)


APP = typer.Typer()
cli.register(APP)


@dataclass
class Ran:
    returncode: int
    stdout: str
    stderr: str


def neot(*args: str, data_dir: Path, database_url: str | None = None) -> Ran:
    """Run a scoring command in-process; a `UserError` becomes exit code 2 with its message on
    stderr, as `neot.cli.main` does."""
    env = {"NEOT_DATA_DIR": str(data_dir), "NEOT_DATABASE_URL": database_url or ""}
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(APP, list(args), env=env, catch_exceptions=True)
    finally:
        get_settings.cache_clear()
    if isinstance(result.exception, UserError):
        return Ran(2, result.stdout, str(result.exception))
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    return Ran(result.exit_code, result.stdout, "")


def neot_process(*args: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "NEOT_DATA_DIR": str(data_dir), "NEOT_LOG_LEVEL": "WARNING"}
    return subprocess.run(
        [sys.executable, "-c", "from neot.cli import main; main()", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def write_replay_csv(samples: SampleArrays, path: Path) -> None:
    lines = ["time,lat,lon,speed_kmh,heading_deg,rpm"]
    for i in range(len(samples)):
        moment = datetime.fromtimestamp(int(samples.time_ns[i]) / 1e9, UTC).isoformat(timespec="milliseconds")
        lines.append(
            f"{moment},{samples.lat[i]:.7f},{samples.lon[i]:.7f},{samples.speed_kmh[i]:.2f},"
            f"{samples.heading_deg[i]:.2f},"
        )
    path.write_text("\n".join(lines) + "\n")


def test_score_file_json_reports_the_crafted_brake(tmp_path: Path) -> None:
    samples = simulate([Leg(10, 2.0), Leg(120), Leg(2, -5.0), Leg(60)], start=OPEN_ROAD)
    trip_csv = tmp_path / "trip.csv"
    write_replay_csv(samples, trip_csv)
    result = neot("score-file", str(trip_csv), "--json", data_dir=tmp_path)
    assert result.returncode == 0, result.stderr
    out = json.loads(result.stdout)
    (trip,) = out["trips"]
    assert [e["kind"] for e in trip["events"]] == ["harsh_brake"]
    assert trip["events"][0]["peak"] == pytest.approx(5.0, abs=0.01)
    assert trip["record"]["events"]["harsh_brake"] == 1
    assert trip["record"]["product_id"] == "standard" and 0 <= trip["record"]["score"] < 100


def test_score_file_prints_a_table_for_the_real_gpx_drive(tmp_path: Path) -> None:
    result = neot("score-file", str(FIXTURES / "around-visnjan-with-car.gpx"), data_dir=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "1 trip(s) under standard@1" in result.stdout
    assert "104 samples" in result.stdout


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("time,lat,lon\n2026-01-01T00:00:00Z,60,24\n", "bad.csv:1: header must name time, lat, lon, speed_kmh"),
        ("time,lat,lon,speed_kmh\n2026-01-01T00:00:00,60,24,10\n", "bad.csv:2: time '2026-01-01T00:00:00' has no zone"),
        ("time,lat,lon,speed_kmh\n2026-01-01T00:00:00Z,60,north,10\n", "bad.csv:2: lon 'north' is not a number"),
    ],
)
def test_score_file_refuses_a_bad_csv_in_one_line(tmp_path: Path, content: str, message: str) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(content)
    result = neot("score-file", str(bad), data_dir=tmp_path)
    assert result.returncode == 2
    assert message in result.stderr and "Traceback" not in result.stderr


def test_the_real_command_exits_2_with_one_line_for_a_bad_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text("time,lat,lon\n2026-01-01T00:00:00Z,60,24\n")
    result = neot_process("score-file", str(bad), data_dir=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "missing ['speed_kmh']" in result.stderr


def test_unknown_product_is_a_user_error(tmp_path: Path) -> None:
    result = neot("score-file", str(FIXTURES / "around-visnjan-with-car.gpx"), "--product", "gold", data_dir=tmp_path)
    assert result.returncode == 2 and "unknown product 'gold'" in result.stderr


def test_model_synth_then_train_saves_versioned_models(tmp_path: Path) -> None:
    portfolio = tmp_path / "portfolio"
    models_dir = tmp_path / "models"
    assert neot("model", "synth", "--out", str(portfolio), "--policies", "20000", data_dir=tmp_path).returncode == 0
    args = ["model", "train", "--claims", str(portfolio / "claims.csv"), "--features", str(portfolio / "features.csv")]
    first = neot(*args, "--models-dir", str(models_dir), "--json", data_dir=tmp_path)
    assert first.returncode == 0, first.stderr
    doc = json.loads(first.stdout)
    saved = Path(doc["path"])
    assert hashlib.sha256(saved.read_bytes()).hexdigest() == doc["sha256"]
    assert doc["model"]["version"] == 1 and doc["model"]["features"][0] == "harsh_brakes_per_100km"
    second = neot(*args, "--models-dir", str(models_dir), "--severity", data_dir=tmp_path)
    assert second.returncode == 0, second.stderr
    assert "claim frequency model v2" in second.stdout
    assert len(list(models_dir.glob("risk-model-v2-*.json"))) == 1


def test_model_train_without_features_joins_the_database(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'neot.sqlite3'}"
    migrations.upgrade(url)
    claims = tmp_path / "claims.csv"
    claims.write_text("policy,exposure,claim_count,amount\n" + "".join(f"{i},1.0,0,0\n" for i in range(1, 9)))
    result = neot("model", "train", "--claims", str(claims), data_dir=tmp_path, database_url=url)
    assert result.returncode == 2
    assert "no features for 8 policies" in result.stderr


def test_score_worker_once_scores_what_was_uploaded_then_nothing_more(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'neot.sqlite3'}"
    migrations.upgrade(url)
    engine = make_engine(url)
    with make_session_factory(engine)() as session:
        device_id = add_device(session)
        add_batch(session, device_id, 1, two_drives())
        session.commit()
    result = neot("score-worker", "--once", data_dir=tmp_path, database_url=url)
    assert result.returncode == 0, result.stderr
    with make_session_factory(engine)() as session:
        assert session.scalar(select(func.count()).select_from(Trip)) == 2  # two new trips
        assert session.scalar(select(func.count()).select_from(DirtyDevice)) == 0
    again = neot("score-worker", "--once", data_dir=tmp_path, database_url=url)
    assert again.returncode == 0, again.stderr
    with make_session_factory(engine)() as session:
        assert session.scalar(select(func.count()).select_from(Trip)) == 2
    engine.dispose()


def test_speed_limits_build_then_score_with_them(tmp_path: Path) -> None:
    out = tmp_path / "helsinki.csv.gz"
    pbf = Path(__file__).parent / "data" / "Helsinki.osm.pbf"
    built = neot("speed-limits", "build", str(pbf), str(out), data_dir=tmp_path)
    assert built.returncode == 0 and "wrote 1641 road segments" in built.stdout
    assert out.read_bytes() == DEFAULT_SEGMENTS_FILE.read_bytes()
    gpx = str(FIXTURES / "around-visnjan-with-car.gpx")
    assert neot("score-file", gpx, "--speed-limits", str(out), data_dir=tmp_path).returncode == 0
    missing = neot("speed-limits", "build", str(tmp_path / "none.osm.pbf"), str(out), data_dir=tmp_path)
    assert missing.returncode == 2 and "no such file" in missing.stderr
    not_pbf = tmp_path / "not.osm.pbf"
    not_pbf.write_text("hello")
    broken = neot("speed-limits", "build", str(not_pbf), str(out), data_dir=tmp_path)
    assert broken.returncode == 2 and "cannot read OSM extract" in broken.stderr

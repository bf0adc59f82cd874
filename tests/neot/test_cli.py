"""The `neot` command as a user runs it: a real subprocess, real exit codes, real output."""

import os
import subprocess
import sys
from pathlib import Path

NEOT = str(Path(sys.executable).with_name("neot"))


def run(*args: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("NEOT_")} | (env or {})
    return subprocess.run([NEOT, *args], capture_output=True, text=True, env=full_env, cwd=cwd, timeout=120)


def test_version_and_help() -> None:
    version = run("--version")
    assert version.returncode == 0
    assert version.stdout.startswith("neot 0.")
    helptext = run("--help")
    assert helptext.returncode == 0
    for command in ("db", "demo"):
        assert command in helptext.stdout


def test_wrong_option_exits_2() -> None:
    result = run("db", "upgrade", "--no-such-option")
    assert result.returncode == 2
    assert "No such option" in result.stderr
    assert "Traceback" not in result.stderr


def test_unreachable_database_is_one_line_exit_2(tmp_path: Path) -> None:
    url = "postgresql+psycopg://nobody:s3cret@127.0.0.1:9/none"
    result = run("db", "upgrade", env={"NEOT_DATABASE_URL": url, "NEOT_DATA_DIR": str(tmp_path)})
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: cannot reach the database at postgresql+psycopg://nobody:***@127.0.0.1:9/none")
    assert "NEOT_DATABASE_URL" in lines[0]
    assert "s3cret" not in result.stderr + result.stdout


def test_unknown_database_driver_is_exit_2(tmp_path: Path) -> None:
    result = run("db", "status", env={"NEOT_DATABASE_URL": "nosuchdb://x/y", "NEOT_DATA_DIR": str(tmp_path)})
    assert result.returncode == 2
    assert result.stderr.startswith("error: ")
    assert "Traceback" not in result.stderr


def test_data_dir_that_is_a_file_is_exit_2(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    result = run("db", "upgrade", env={"NEOT_DATA_DIR": str(blocker / "data")})
    assert result.returncode == 2
    assert result.stderr.startswith(f"error: data dir {blocker / 'data'} is not writable")
    assert "NEOT_DATA_DIR" in result.stderr
    assert "Traceback" not in result.stderr


def test_db_upgrade_status_downgrade_on_sqlite(tmp_path: Path) -> None:
    env = {"NEOT_DATA_DIR": str(tmp_path / "data")}
    assert run("db", "upgrade", env=env).returncode == 0
    assert (tmp_path / "data" / "neot.sqlite3").exists()
    status = run("db", "status", env=env)
    assert status.returncode == 0
    assert "yes" in status.stdout  # up to date
    assert run("db", "downgrade", env=env).returncode == 0
    assert "(empty)" in run("db", "status", env=env).stdout


def test_db_upgrade_on_postgresql(postgres_url: str, tmp_path: Path) -> None:
    env = {"NEOT_DATABASE_URL": postgres_url, "NEOT_DATA_DIR": str(tmp_path)}
    result = run("db", "upgrade", env=env)
    assert result.returncode == 0, result.stderr
    assert "yes" in run("db", "status", env=env).stdout


def test_importing_the_cli_pulls_no_server_stack() -> None:
    """An in-car box has only the agent extra: the shell must not import the server stack."""
    code = (
        "import sys, neot.cli; neot.cli.register_commands();"
        "heavy = {'fastapi', 'sklearn', 'neo3', 'boa3', 'sqlalchemy', 'alembic', 'uvicorn'};"
        "print(sorted(m for m in heavy if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"

"""Settings come from NEOT_* variables with usable defaults."""

from pathlib import Path

import pytest

from neot.settings import LogFormat, Settings


def test_defaults_put_sqlite_in_the_data_dir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("NEOT_DATABASE_URL", raising=False)
    monkeypatch.setenv("NEOT_DATA_DIR", str(tmp_path))
    settings = Settings()
    assert settings.database_url == f"sqlite:///{tmp_path.resolve() / 'neot.sqlite3'}"
    assert settings.log_format is LogFormat.AUTO


def test_environment_overrides(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEOT_DATABASE_URL", "postgresql+psycopg://u@h:5432/d")
    monkeypatch.setenv("NEOT_NEO_RPC_URL", "http://127.0.0.1:1234")
    monkeypatch.setenv("NEOT_LOG_FORMAT", "json")
    settings = Settings()
    assert settings.database_url == "postgresql+psycopg://u@h:5432/d"
    assert settings.neo_rpc_url == "http://127.0.0.1:1234"
    assert settings.log_format is LogFormat.JSON


def test_unknown_log_format_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NEOT_LOG_FORMAT", "xml")
    with pytest.raises(ValueError, match="log_format"):
        Settings()

"""One typed settings object for every server-side component, read from `NEOT_*` variables."""

import os
from enum import StrEnum
from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from neot.errors import UserError

__all__ = [
    "DEFAULT_SECRET_KEY",
    "Environment",
    "LogFormat",
    "LogSettings",
    "Settings",
    "ensure_data_dir",
    "get_settings",
]

# Known to everyone who reads this file: accepted only in development.
DEFAULT_SECRET_KEY = "development-only-secret-change-me"


class LogFormat(StrEnum):
    """How log lines are rendered: `auto` is JSON unless stderr is a terminal."""

    AUTO = "auto"
    CONSOLE = "console"
    JSON = "json"


class Environment(StrEnum):
    """Where NEOT runs: development allows convenience defaults that production refuses."""

    DEVELOPMENT = "development"
    STAGING = "staging"
    PRODUCTION = "production"


class LogSettings(BaseSettings):
    """How a process logs: all the `neot` command's root reads, so that a command needing no server
    setting (the in-car agent's) never trips over one."""

    # hide_input_in_errors: a refused setting must not print the secret key it was given
    model_config = SettingsConfigDict(env_prefix="NEOT_", extra="ignore", hide_input_in_errors=True)

    log_level: str = Field(default="INFO")
    log_format: LogFormat = Field(default=LogFormat.AUTO)


class Settings(LogSettings):
    """Where NEOT keeps its data, which database and NEO node it talks to, and how it logs."""

    data_dir: Path = Field(default=Path(".neot"), description="Folder for the SQLite file, chain data, keys")
    database_url: str = Field(default="", description="SQLAlchemy URL; empty means SQLite in data_dir")
    neo_rpc_url: str = Field(default="http://127.0.0.1:30333", description="NEO N3 JSON-RPC endpoint")
    environment: Environment = Field(default=Environment.DEVELOPMENT)
    secret_key: SecretStr = Field(
        default=SecretStr(DEFAULT_SECRET_KEY), description="HMAC key signing API access tokens (JWT)"
    )
    access_token_ttl_s: int = Field(default=3600, gt=0, le=7 * 24 * 3600)
    stream_url: str = Field(
        default="", description="nats://host:4222 puts verified batches on a NATS JetStream stream; empty: in-process"
    )
    stream_name: str = Field(default="NEOT_BATCHES", pattern=r"^[A-Za-z0-9_-]{1,64}$")
    stream_subjects: str = Field(default="neot.batches", pattern=r"^[a-z0-9_-]+(\.[a-z0-9_-]+)*$")
    stream_shards: int = Field(default=16, ge=1, le=1024, description="Device shards: one subject and consumer each")
    stream_ack_wait_s: float = Field(
        default=30.0, gt=0, le=3600, description="A batch a worker took but did not confirm is redelivered after this"
    )
    sample_retention_days: float = Field(
        default=90, ge=0, description="Days raw samples are kept after their month is billed, then deleted"
    )
    revocation_poll_s: float = Field(
        default=1.0, gt=0, le=60, description="How often each API process re-reads revoked sign-ins"
    )
    db_pool_size: int = Field(
        default=8, ge=1, le=200, description="Database connections each API process keeps (README: sizing rule)"
    )
    db_max_overflow: int = Field(
        default=4, ge=0, le=200, description="Connections an API process may open beyond its pool, briefly"
    )

    @model_validator(mode="after")
    def _default_database(self) -> "Settings":
        if not self.database_url:
            self.database_url = f"sqlite:///{(self.data_dir / 'neot.sqlite3').resolve()}"
        return self

    @model_validator(mode="after")
    def _no_default_secret_outside_development(self) -> "Settings":
        """A published or short key lets anyone mint tokens: refuse it anywhere but development."""
        if self.environment is not Environment.DEVELOPMENT:
            key = self.secret_key.get_secret_value()
            if key == DEFAULT_SECRET_KEY or len(key) < 32:
                raise ValueError(
                    f"NEOT_SECRET_KEY must be set to a random value of at least 32 characters when "
                    f"NEOT_ENVIRONMENT={self.environment.value} (e.g. `python -c 'import secrets; "
                    f"print(secrets.token_urlsafe(48))'`)"
                )
        return self


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment; a refused setting is a `UserError`
    naming it (and never echoing the value given)."""
    try:
        return Settings()
    except ValidationError as exc:
        problems = "; ".join(str(error["msg"]) for error in exc.errors())
        raise UserError(f"invalid NEOT_* settings: {problems}", "fix the environment variables named") from exc


def ensure_data_dir(settings: Settings) -> Path:
    """Create the data dir if needed and prove it is writable, or explain how to fix it."""
    path = settings.data_dir
    try:
        path.mkdir(parents=True, exist_ok=True)
        probe = path / ".write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise UserError(
            f"data dir {path} is not writable: {exc.strerror or exc}",
            "set NEOT_DATA_DIR to a folder you can write",
        ) from exc
    if not os.access(path, os.W_OK):  # pragma: no cover - covered by the probe above on Linux
        raise UserError(f"data dir {path} is not writable", "set NEOT_DATA_DIR to a folder you can write")
    return path

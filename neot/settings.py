"""One typed settings object for every server-side component, read from `NEOT_*` variables."""

from enum import StrEnum
from functools import lru_cache
from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

__all__ = ["LogFormat", "Settings", "get_settings"]


class LogFormat(StrEnum):
    """How log lines are rendered: `auto` is JSON unless stderr is a terminal."""

    AUTO = "auto"
    CONSOLE = "console"
    JSON = "json"


class Settings(BaseSettings):
    """Where NEOT keeps its data, which database and NEO node it talks to, and how it logs."""

    model_config = SettingsConfigDict(env_prefix="NEOT_", extra="ignore")

    data_dir: Path = Field(default=Path(".neot"), description="Folder for the SQLite file, chain data, keys")
    database_url: str = Field(default="", description="SQLAlchemy URL; empty means SQLite in data_dir")
    neo_rpc_url: str = Field(default="http://127.0.0.1:30333", description="NEO N3 JSON-RPC endpoint")
    log_level: str = Field(default="INFO")
    log_format: LogFormat = Field(default=LogFormat.AUTO)

    @model_validator(mode="after")
    def _default_database(self) -> "Settings":
        if not self.database_url:
            self.database_url = f"sqlite:///{(self.data_dir / 'neot.sqlite3').resolve()}"
        return self


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()

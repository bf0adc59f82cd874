"""`agent.toml`: what the in-car agent runs, where it keeps its state, where it uploads.

    [agent]
    key_file = "device.key"          # from `neot agent keygen`; relative paths are relative to this file
    buffer_file = "buffer.sqlite3"
    sample_rate_hz = 10              # 1-10; the server may change it with a Configure signal
    upload_interval_s = 30           # likewise
    max_buffer_samples = 2000000     # cap on samples held offline (~200 MB); oldest dropped beyond
    max_batch_samples = 3000
    trouble_code_interval_s = 60     # how often the car's trouble codes are read (changes are reported)

    [server]
    url = "http://127.0.0.1:8000"
    timeout_s = 10
    max_backoff_s = 300

    [[adapters]]                     # one table per sensor; `kind` picks the adapter, the rest are its options
    kind = "obd"
    port = "socket://127.0.0.1:35000"

Settings received from the server (a Configure signal) override the file's and survive restarts.
"""

import tomllib
from pathlib import Path
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from protocol import MAX_BATCH_SAMPLES
from vehicle_agent._errors import AgentConfigError

__all__ = ["AdapterSpec", "AgentConfig", "AgentSection", "ServerSection"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AgentSection(_Strict):
    key_file: Path = Path("device.key")
    buffer_file: Path = Path("buffer.sqlite3")
    sample_rate_hz: int = Field(default=10, ge=1, le=10)
    upload_interval_s: float = Field(default=30.0, gt=0, le=86_400)
    max_buffer_samples: int = Field(default=2_000_000, ge=1)
    max_batch_samples: int = Field(default=3000, ge=1, le=MAX_BATCH_SAMPLES)
    trouble_code_interval_s: float = Field(default=60.0, gt=0, le=86_400)


class ServerSection(_Strict):
    url: str = Field(pattern=r"^https?://")
    timeout_s: float = Field(default=10.0, gt=0)
    min_backoff_s: float = Field(default=1.0, gt=0)
    max_backoff_s: float = Field(default=300.0, gt=0)


class AdapterSpec(BaseModel):
    """One `[[adapters]]` table: `kind`, optional `name`, and the adapter's own options."""

    model_config = ConfigDict(extra="allow", frozen=True)

    kind: str
    name: str | None = None

    @property
    def options(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class AgentConfig(_Strict):
    agent: AgentSection = AgentSection()
    server: ServerSection
    adapters: tuple[AdapterSpec, ...] = ()

    @classmethod
    def load(cls, path: Path) -> Self:
        """Read and check `path`; relative file names in it are resolved against its folder."""
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except OSError as exc:
            raise AgentConfigError(f"cannot read {path}: {exc.strerror}") from exc
        except tomllib.TOMLDecodeError as exc:
            raise AgentConfigError(f"{path} is not valid TOML: {exc}") from exc
        try:
            config = cls.model_validate(raw)
        except ValidationError as exc:
            problems = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors())
            raise AgentConfigError(f"{path}: {problems}") from exc
        base = path.parent
        agent = config.agent.model_copy(
            update={"key_file": base / config.agent.key_file, "buffer_file": base / config.agent.buffer_file}
        )
        return config.model_copy(update={"agent": agent})

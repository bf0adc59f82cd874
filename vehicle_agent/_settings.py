"""The agent's own process settings: how it logs. Read from two environment variables so that a car
box needs no server configuration (`NEOT_ENVIRONMENT`, `NEOT_SECRET_KEY`, …) to start; everything
about sampling and uploading lives in agent.toml (`AgentConfig`)."""

import logging
import os
import sys
from typing import Literal

import structlog

__all__ = ["configure_agent_logging"]

type LogFormat = Literal["auto", "console", "json"]
# Libraries that narrate routine work at INFO: keep their warnings, drop the chatter.
_QUIET_LOGGERS: tuple[str, ...] = ("httpx", "httpcore", "obd")


def configure_agent_logging() -> None:
    """Log to stderr: JSON lines unless stderr is a terminal (`NEOT_LOG_FORMAT` = auto, console or
    json), at `NEOT_LOG_LEVEL` (default INFO). stdout stays free for command output."""
    level = os.environ.get("NEOT_LOG_LEVEL", "INFO").upper()
    fmt = os.environ.get("NEOT_LOG_FORMAT", "auto").lower()
    use_json = fmt == "json" or (fmt != "console" and not sys.stderr.isatty())
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer() if use_json else structlog.dev.ConsoleRenderer()
    )
    structlog.configure(
        processors=[
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelNamesMapping().get(level, logging.INFO)),
        logger_factory=structlog.WriteLoggerFactory(sys.stderr),
        cache_logger_on_first_use=True,
    )
    # python-obd and httpx log through the standard library: the same stream, one line per record.
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level)
    for noisy in _QUIET_LOGGERS:
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))

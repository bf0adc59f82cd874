"""structlog set-up: readable lines on a terminal, one JSON object per line everywhere else."""

import logging
import sys

import structlog

from neot.settings import LogFormat

__all__ = ["QUIET_LOGGERS", "configure_logging"]

QUIET_LOGGERS: tuple[str, ...] = ("alembic", "httpx", "httpcore", "obd", "uvicorn.access")


def configure_logging(level: str = "INFO", fmt: LogFormat = LogFormat.AUTO) -> None:
    """Route stdlib and structlog records through one renderer on stderr."""
    use_json = fmt is LogFormat.JSON or (fmt is LogFormat.AUTO and not sys.stderr.isatty())
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer() if use_json else structlog.dev.ConsoleRenderer()
    )
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[*shared, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, renderer],
        )
    )
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level.upper())
    # Libraries that narrate routine work at INFO: keep their warnings, drop the chatter.
    for noisy in QUIET_LOGGERS:
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))

"""Checks every command that touches the data dir or the database runs first."""

import os
from pathlib import Path

from neot.errors import UserError
from neot.settings import Settings

__all__ = ["ensure_data_dir"]


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

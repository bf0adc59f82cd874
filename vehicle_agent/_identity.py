"""The device key file: created once by `neot agent keygen`, readable by its owner only."""

import os
import stat
from pathlib import Path

from protocol import DeviceKey, KeyFormatError
from vehicle_agent._errors import AgentConfigError

__all__ = ["create_key_file", "load_key_file"]


def create_key_file(path: Path) -> DeviceKey:
    """Write a new key to `path` with mode 0600, never overwriting an existing file."""
    key = DeviceKey.generate()
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError as exc:
        raise AgentConfigError(f"{path} already exists; a device keeps its key (delete it to start over)") from exc
    with os.fdopen(fd, "wb") as f:
        f.write(key.to_pem())
        f.flush()
        os.fsync(f.fileno())
    return key


def load_key_file(path: Path) -> DeviceKey:
    """Load the device key, refusing a file that others can read."""
    try:
        mode = path.stat().st_mode
        pem = path.read_bytes()
    except FileNotFoundError as exc:
        raise AgentConfigError(f"no device key at {path}; create one with `neot agent keygen`") from exc
    except OSError as exc:
        raise AgentConfigError(f"cannot read the device key {path}: {exc.strerror}") from exc
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise AgentConfigError(f"device key {path} is accessible by others (mode {stat.S_IMODE(mode):o}); chmod 600 it")
    try:
        return DeviceKey.from_pem(pem)
    except KeyFormatError as exc:
        raise AgentConfigError(f"{path} is not a device key: {exc}") from exc

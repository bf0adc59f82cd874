"""NEOT application shell: settings, logging and the `neot` command line shared by every component.

The shell imports nothing heavy at import time, so the in-car agent (installed with only the
`agent` extra) can use the same `neot` command without FastAPI, scikit-learn or the chain SDK.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("neot")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]

"""Finding adapters by kind: the built-ins and third-party ones, through one entry-point group.

A package adds an adapter kind by declaring, in its own pyproject.toml,

    [project.entry-points."neot.adapters"]
    can = "my_package.can:CanAdapter"

where the object is a class (or any callable) taking `(name, options)` and returning an
`Adapter` — the built-ins expose `from_options(name, options)` for that. NEOT declares its own
kinds the same way, so there is one lookup path and no hidden list.
"""

from collections.abc import Callable, Mapping
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from vehicle_agent.adapters._base import Adapter, AdapterConfigError

__all__ = ["ENTRY_POINT_GROUP", "adapter_kinds", "create_adapter"]

ENTRY_POINT_GROUP = "neot.adapters"


def _entry_points() -> dict[str, EntryPoint]:
    return {ep.name: ep for ep in entry_points(group=ENTRY_POINT_GROUP)}


def adapter_kinds() -> list[str]:
    """Every adapter kind installed, built-in or third-party, sorted."""
    return sorted(_entry_points())


def create_adapter(kind: str, name: str | None = None, options: Mapping[str, Any] | None = None) -> Adapter:
    """Build an adapter of `kind` named `name` (default: the kind) from its options table."""
    ep = _entry_points().get(kind)
    if ep is None:
        raise AdapterConfigError(f"unknown adapter kind {kind!r}; installed: {', '.join(adapter_kinds())}")
    try:
        target = ep.load()
    except ImportError as exc:
        raise AdapterConfigError(f"adapter kind {kind!r} ({ep.value}) cannot be loaded: {exc}") from exc
    factory: Callable[[str, Mapping[str, Any]], Any] = getattr(target, "from_options", target)
    adapter = factory(name or kind, dict(options or {}))
    if not isinstance(adapter, Adapter):
        raise AdapterConfigError(f"adapter kind {kind!r} ({ep.value}) did not build an Adapter")
    return adapter

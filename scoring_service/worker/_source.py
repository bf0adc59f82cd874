"""The seam between the score worker and whatever tells it which devices have new data.

The worker asks a `WorkSource` for devices due for scoring, scores each, and tells the source
when to look at the device again (never, unless new data comes; or later, while a trip is still
open). Sources: `DirtyDevices`, the database table ingestion writes in the same transaction as
the samples; a stream of verified batches (NATS JetStream) fits the same two calls, with the
message as the token and acknowledgement in `finish`.

Any number of workers may share a source. A device handed to two of them at once is scored
twice, harmlessly: trips are keyed by (device, start) and stored once.
"""

from dataclasses import dataclass
from typing import Protocol

__all__ = ["DueDevice", "WorkSource"]


@dataclass(frozen=True, slots=True)
class DueDevice:
    """A device to score; `token` is the source's own (what `finish` needs to settle it)."""

    device_id: int
    token: object


class WorkSource(Protocol):
    """Where the score worker finds its work."""

    def take(self, *, limit: int, now_ns: int) -> list[DueDevice]:
        """Up to `limit` devices due for scoring at `now_ns`, oldest due first."""
        ...

    def finish(self, item: DueDevice, *, revisit_at_ns: int | None) -> None:
        """The device was scored up to the data the worker saw. `revisit_at_ns`: look at it again
        then even without new data (a trip still open counts as ended after a while); None:
        only when new data comes. Data that arrived after `take` keeps it due."""
        ...

    def backlog(self, *, now_ns: int) -> int:
        """How many devices are due now (the backlog gauge)."""
        ...

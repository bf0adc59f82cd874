"""The buffer under random interleavings of sampling, batching, acks, restarts and the cap:
every sample taken is always in exactly one place (queued, in a pending batch, acknowledged,
or counted as dropped), and only the oldest are ever dropped."""

import json
import tempfile
from pathlib import Path

from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from protocol import Sample
from vehicle_agent import Buffer

CAP = 25


def build(seq: int, samples: tuple[Sample, ...]) -> bytes:
    return json.dumps([s.time_ns for s in samples]).encode()


class BufferModel(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.dir = tempfile.TemporaryDirectory()
        self.path = Path(self.dir.name) / "b.sqlite3"
        self.buffer = Buffer(self.path, max_samples=CAP)
        self.added: list[int] = []
        self.acked: set[int] = set()

    def teardown(self) -> None:
        self.buffer.close()
        self.dir.cleanup()

    @rule(n=st.integers(min_value=1, max_value=12))
    def take(self, n: int) -> None:
        for _ in range(n):
            t = len(self.added) + 1
            self.buffer.add(Sample(t, speed_kmh=float(t % 200)))
            self.added.append(t)

    @rule(k=st.integers(min_value=1, max_value=10))
    def batch(self, k: int) -> None:
        self.buffer.next_batch(k, build)

    @precondition(lambda self: self.buffer.pending() is not None)
    @rule()
    def ack_pending(self) -> None:
        pending = self.buffer.pending()
        assert pending is not None
        self.acked.update(json.loads(pending.body))
        self.buffer.ack(pending.seq)

    @rule()
    def stale_ack(self) -> None:
        stats = self.buffer.stats()
        if stats.last_ack_seq is not None:
            self.buffer.ack(stats.last_ack_seq)  # a repeated old Ack releases nothing new

    @rule()
    def restart(self) -> None:
        self.buffer.close()
        self.buffer = Buffer(self.path, max_samples=CAP)

    def held(self) -> list[int]:
        queued = [row[0] for row in self.buffer._db.execute("SELECT json_extract(q, '$[0]') FROM samples")]
        batched = [t for (body,) in self.buffer._db.execute("SELECT body FROM batches") for t in json.loads(body)]
        return queued + batched

    @invariant()
    def every_sample_in_exactly_one_place(self) -> None:
        held = self.held()
        stats = self.buffer.stats()
        assert len(held) == len(set(held)) and not set(held) & self.acked
        assert stats.depth == len(held) <= CAP
        assert stats.taken_samples == len(self.added)
        assert stats.dropped_samples == len(self.added) - len(held) - len(self.acked)
        dropped = set(self.added) - set(held) - self.acked
        assert not held or not dropped or max(dropped) < min(held)  # only the oldest go


TestBufferModel = BufferModel.TestCase
TestBufferModel.settings = settings(max_examples=25, stateful_step_count=30, deadline=None)

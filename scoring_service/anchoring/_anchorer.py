"""The anchoring loop: close due epochs, anchor them one transaction each, in order, crash-safe.

Every state change is committed before the action it allows, so a process killed at any point
resumes correctly:

- `closed`: nothing sent. Before signing, the contract is asked whether the epoch is already
  there (it never is unless someone else anchors with our key: that stops the loop).
- `sent(tx)`: the signed bytes were stored BEFORE broadcasting. On resume they are broadcast again
  (same hash, so at most one inclusion) until the transaction is in a block or provably expired
  (the chain passed its `valid_until_block` without it); only then is a new one signed.
- `confirmed(block)`: written once the application log shows HALT and the `Anchored` event with
  our epoch and root.

Epochs are anchored strictly in order and the contract only accepts increasing epochs, so none is
skipped. A node that is down raises `ChainUnavailable`: the loop waits and retries; commitments keep
accumulating and epochs keep closing meanwhile.

Run one anchoring process per database. A second one started by mistake is harmless: an attempt
is recorded only if the epoch is still as the process saw it when deciding, so the loser of a race
broadcasts nothing (and the contract refuses a second root for an epoch in any case).
"""

import asyncio
import contextlib
from collections.abc import Callable
from datetime import datetime
from enum import StrEnum

import structlog
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from models import AnchorAttempt, EpochState, ScoreEpoch, session_scope, utcnow
from protocol import AnchoredEvent
from scoring_service.anchoring._chain import AnchorChain
from scoring_service.anchoring._epochs import EpochPolicy, close_due_epoch, oldest_unanchored
from scoring_service.anchoring._errors import AnchorConflict, ChainUnavailable, EpochIntegrityError
from scoring_service.monitoring import CHAIN_ERRORS, EPOCH_LAG, EPOCHS_ANCHORED, Heartbeat

__all__ = ["Anchorer", "Progress"]

_log = structlog.get_logger(__name__)
_HALT = "HALT"


class Progress(StrEnum):
    """What one step did; `idle` and `waiting` mean the loop may sleep."""

    IDLE = "idle"  # nothing closed and nothing to anchor
    CLOSED = "closed"  # an epoch was closed
    SENT = "sent"  # an anchor transaction was recorded and broadcast
    WAITING = "waiting"  # a sent transaction is not in a block yet (re-broadcast)
    CONFIRMED = "confirmed"  # an epoch's anchor is in a block


class Anchorer:
    """Drives epochs from `open` to `confirmed` against one database and one anchor contract."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        chain: AnchorChain,
        *,
        policy: EpochPolicy,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._sessions = sessions
        self._chain = chain
        self._policy = policy
        self._clock = clock
        self._network_magic: int | None = None

    async def step(self) -> Progress:
        """Do the next single thing that is due; the database is consistent after each."""
        with session_scope(self._sessions) as session:
            closed = close_due_epoch(session, policy=self._policy, now=self._clock())
            if closed is not None:
                _log.info("epoch.closed", epoch=closed.epoch, leaves=closed.leaf_count, root=(closed.root or b"").hex())
                return Progress.CLOSED
            target = session.scalars(
                select(ScoreEpoch)
                .where(ScoreEpoch.state.in_([EpochState.CLOSED, EpochState.SENT]))
                .order_by(ScoreEpoch.epoch)
                .limit(1)
            ).one_or_none()
            if target is None:
                return Progress.IDLE
            epoch, state, root, leaves = target.epoch, target.state, target.root, target.leaf_count
        if root is None:
            raise EpochIntegrityError(f"epoch {epoch} is {state} but has no root")
        if state is EpochState.CLOSED:
            return await self._send(epoch, root, leaves)
        return await self._follow(epoch, root, leaves)

    async def _send(self, epoch: int, root: bytes, leaves: int, *, replaces: int | None = None) -> Progress:
        """Sign, record, then broadcast the anchor of `epoch`. `replaces` is the id of the expired
        attempt this one replaces (None for the first). The record is written only if the epoch is
        still as this decision saw it, so a second process racing on the same epoch sends nothing."""
        latest = await self._chain.latest_epoch()
        if latest >= epoch:
            raise AnchorConflict(
                f"the contract already holds epoch {latest} >= {epoch}, which no recorded transaction of ours"
                " explains: another process anchors with this key, or the database was restored"
            )
        if self._network_magic is None:
            self._network_magic = await self._chain.network_magic()
        signed = await self._chain.sign_anchor(epoch, root, leaves)
        with session_scope(self._sessions) as session:
            row = session.scalars(select(ScoreEpoch).where(ScoreEpoch.epoch == epoch).with_for_update()).one()
            newest = session.scalar(select(func.max(AnchorAttempt.id)).where(AnchorAttempt.epoch == epoch))
            expected = EpochState.CLOSED if replaces is None else EpochState.SENT
            if row.state is not expected or newest != replaces:
                _log.warning("anchor.raced", epoch=epoch, state=str(row.state), tx=signed.tx_hash)
                return Progress.IDLE  # another process got there first; this one broadcasts nothing
            session.add(
                AnchorAttempt(
                    epoch=epoch,
                    tx_hash=signed.tx_hash,
                    tx_raw=signed.raw,
                    valid_until_block=signed.valid_until_block,
                    network_magic=self._network_magic,
                    contract_hash=self._chain.contract_hex,
                )
            )
            row.state = EpochState.SENT
            row.tx_hash = signed.tx_hash
        _log.info("anchor.recorded", epoch=epoch, tx=signed.tx_hash, valid_until_block=signed.valid_until_block)
        await self._chain.broadcast(signed.raw)
        _log.info("anchor.broadcast", epoch=epoch, tx=signed.tx_hash)
        return Progress.SENT

    async def _follow(self, epoch: int, root: bytes, leaves: int) -> Progress:
        with session_scope(self._sessions) as session:
            attempt = session.scalars(
                select(AnchorAttempt).where(AnchorAttempt.epoch == epoch).order_by(AnchorAttempt.id.desc()).limit(1)
            ).one()
            attempt_id, tx_hash, raw = attempt.id, attempt.tx_hash, attempt.tx_raw
            valid_until = attempt.valid_until_block
        # Height first: a transaction is only accepted into a block above the newest one while
        # `valid_until_block` > newest index. If it is unknown AFTER the chain reached that block,
        # it can never be included, and only then is it safe to sign another one.
        height = await self._chain.block_count()
        outcome = await self._chain.outcome(tx_hash)
        if outcome is None:
            if height - 1 < valid_until:
                await self._chain.broadcast(raw)
                return Progress.WAITING
            _log.warning("anchor.expired", epoch=epoch, tx=tx_hash, valid_until_block=valid_until)
            return await self._send(epoch, root, leaves, replaces=attempt_id)
        if outcome.vm_state != _HALT:
            raise AnchorConflict(f"anchor transaction {tx_hash} of epoch {epoch} ended in {outcome.vm_state}")
        if AnchoredEvent(self._chain.contract_hex, epoch, root) not in outcome.events:
            raise AnchorConflict(f"anchor transaction {tx_hash} did not emit Anchored({epoch}, our root)")
        with session_scope(self._sessions) as session:
            row = session.scalars(select(ScoreEpoch).where(ScoreEpoch.epoch == epoch).with_for_update()).one()
            row.state = EpochState.CONFIRMED
            row.tx_hash = tx_hash
            row.block = outcome.block
        _log.info("anchor.confirmed", epoch=epoch, tx=tx_hash, block=outcome.block, gas_paid=outcome.gas_paid)
        return Progress.CONFIRMED

    def lag_s(self) -> float:
        """Seconds since the oldest record not yet in a confirmed anchor was committed (0: none)."""
        with session_scope(self._sessions) as session:
            oldest = oldest_unanchored(session)
        return 0.0 if oldest is None else max(0.0, (self._clock() - oldest).total_seconds())

    async def run(
        self, *, poll_s: float = 1.0, stop: asyncio.Event | None = None, heartbeat: Heartbeat | None = None
    ) -> None:
        """Step until `stop` is set, beating `heartbeat` and updating the metrics after each step.
        A node that is down is retried with backoff (up to a minute); `AnchorConflict` ends the
        loop: it needs an operator."""
        stop = stop or asyncio.Event()
        backoff_s = poll_s
        while not stop.is_set():
            try:
                progress = await self.step()
            except ChainUnavailable as exc:
                CHAIN_ERRORS.inc()
                _log.warning("chain.unavailable", error=str(exc), retry_in_s=backoff_s)
                progress, backoff_s = Progress.IDLE, min(backoff_s * 2, 60.0)
                detail = f"chain unavailable: {exc}"
            except AnchorConflict:
                CHAIN_ERRORS.inc()
                raise
            else:
                backoff_s = poll_s
                detail = str(progress)
                if progress is Progress.CONFIRMED:
                    EPOCHS_ANCHORED.inc()
            EPOCH_LAG.set(self.lag_s())
            if heartbeat is not None:
                heartbeat.beat(detail)
            if progress in (Progress.IDLE, Progress.WAITING):
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), timeout=backoff_s)

"""The in-car agent: adapters → sampler → durable buffer → signed uploads, in one process.

The sampler runs on the calling thread, each adapter's data on its own thread, the uplink on
another. Every second the agent writes a health snapshot into the buffer file so that
`neot agent status` (another process) can show adapter health next to the buffer's numbers.
A Configure signal from the server is applied to the sampler, the uplink and the adapters,
saved in the buffer (it outlives restarts) and acknowledged by a StatusReport in the next batch.
"""

import contextlib
import re
import threading
import time
from collections.abc import Sequence
from importlib.metadata import version
from typing import Any

import httpx
import structlog

from protocol import Ack, Configure, DeviceKey, Sample, StatusReport, signal_from_json, signal_to_json
from vehicle_agent._buffer import Buffer
from vehicle_agent._config import AgentConfig
from vehicle_agent._errors import BufferError
from vehicle_agent._identity import load_key_file
from vehicle_agent._sampler import Sampler
from vehicle_agent._troublecodes import TroubleCodeReporter
from vehicle_agent._uplink import Uplink
from vehicle_agent.adapters import Adapter, AdapterError, create_adapter

__all__ = ["AGENT_VERSION", "Agent"]

_log = structlog.get_logger(__name__)

AGENT_VERSION = version("neot")
_HEALTH_EVERY_S = 1.0


def _report_name(text: str) -> str:
    """An adapter name or state in the StatusReport's alphabet ([A-Za-z0-9_.:-], 1-64)."""
    return re.sub(r"[^A-Za-z0-9_.:-]", "_", text)[:64] or "_"


class Agent:
    """One running agent. `adapters`, `key` and `client` replace what the config names (tests,
    embedding); otherwise the adapters are built from `[[adapters]]` and the key file is loaded."""

    def __init__(
        self,
        config: AgentConfig,
        *,
        adapters: Sequence[Adapter] | None = None,
        key: DeviceKey | None = None,
        client: httpx.Client | None = None,
    ) -> None:
        self.config = config
        self.key = key or load_key_file(config.agent.key_file)
        self.adapters = (
            list(adapters)
            if adapters is not None
            else [create_adapter(spec.kind, spec.name, spec.options) for spec in config.adapters]
        )
        self.buffer = Buffer(config.agent.buffer_file, max_samples=config.agent.max_buffer_samples)
        saved = self.buffer.get_state("config")
        self.applied: Configure | None = None if saved is None else signal_from_json(saved)  # type: ignore[assignment]
        rate_hz = self.applied.sample_rate_hz if self.applied else config.agent.sample_rate_hz
        interval_s = self.applied.upload_interval_s if self.applied else config.agent.upload_interval_s
        self.sampler = Sampler(self.adapters, self._store, rate_hz=rate_hz, last_time_ns=self.buffer.last_time_ns)
        self.lost_samples = 0  # readings the buffer could not keep (disk full): never taken
        self._store_failing = False
        self.uplink = Uplink(
            server_url=config.server.url,
            buffer=self.buffer,
            key=self.key,
            agent_version=AGENT_VERSION,
            report=self.report,
            on_ack=self.on_ack,
            upload_interval_s=interval_s,
            max_batch_samples=config.agent.max_batch_samples,
            timeout_s=config.server.timeout_s,
            min_backoff_s=config.server.min_backoff_s,
            max_backoff_s=config.server.max_backoff_s,
            client=client,
        )
        self._owned_client: httpx.Client | None = None
        self.trouble_codes = TroubleCodeReporter(
            adapters=self.adapters,
            key=self.key,
            buffer=self.buffer,
            server_url=config.server.url,
            client=client or self._reporter_client(config.server.timeout_s),
            interval_s=config.agent.trouble_code_interval_s,
        )
        self._stop = threading.Event()
        self._wake_uplink = threading.Event()

    def _reporter_client(self, timeout_s: float) -> httpx.Client:
        """The trouble-code reporter's own connection, closed when the agent stops."""
        self._owned_client = httpx.Client(timeout=timeout_s)
        return self._owned_client

    def _store(self, sample: Sample) -> None:
        """Keep a sample; when the disk refuses, the sample is not taken (logged once per outage)
        and the agent keeps running, so uploads can free space."""
        try:
            self.buffer.add(sample)
        except BufferError as exc:
            self.lost_samples += 1
            if not self._store_failing:
                self._store_failing = True
                _log.error("buffer cannot store samples; they are not being kept", error=str(exc))
            return
        if self._store_failing:
            self._store_failing = False
            _log.info("buffer stores samples again", lost_samples=self.lost_samples)

    # --- signals -------------------------------------------------------------------------------

    def on_ack(self, ack: Ack) -> None:
        """Act on what the server sent with its acknowledgement."""
        if ack.configure is not None:
            if self.applied is None or ack.configure != self.applied:
                self.apply(ack.configure)
            self.uplink.report_due = True  # (re-)acknowledge: the server still lists it as pending
        if ack.query is not None:
            self.uplink.report_due = True

    def apply(self, config: Configure) -> None:
        """Apply a Configure everywhere and keep it across restarts."""
        self.sampler.set_rate(config.sample_rate_hz)
        self.uplink.upload_interval_s = config.upload_interval_s
        for adapter in self.adapters:
            try:
                adapter.signal(config)
            except AdapterError as exc:
                _log.warning("adapter could not apply the configuration", adapter=adapter.name, error=str(exc))
        self.buffer.set_state("config", signal_to_json(config))
        self.applied = config
        _log.info(
            "configuration applied",
            config_id=config.config_id,
            sample_rate_hz=config.sample_rate_hz,
            upload_interval_s=config.upload_interval_s,
            pids=list(config.pids),
        )

    def health(self) -> dict[str, str]:
        """Adapter name → state word."""
        out: dict[str, str] = {}
        for adapter in self.adapters:
            failure = self.sampler.counters.adapter_failures.get(adapter.name)
            if failure is not None:
                out[adapter.name] = "failed"
                continue
            try:
                out[adapter.name] = str(adapter.status().state)
            except Exception as exc:  # status of a broken adapter must not stop the report
                _log.warning("adapter status failed", adapter=adapter.name, error=repr(exc))
                out[adapter.name] = "unknown"
        return out

    def report(self) -> StatusReport:
        stats = self.buffer.stats()
        return StatusReport(
            config_id=None if self.applied is None else self.applied.config_id,
            sample_rate_hz=self.sampler.rate_hz,
            buffered_samples=stats.depth,
            dropped_samples=stats.dropped_samples,
            last_ack_seq=stats.last_ack_seq,
            adapters={_report_name(k): _report_name(v) for k, v in list(self.health().items())[:32]},
        )

    def _snapshot(self) -> dict[str, Any]:
        return {
            "updated_ns": time.time_ns(),
            "device_id": self.key.address,
            "agent_version": AGENT_VERSION,
            "sample_rate_hz": self.sampler.rate_hz,
            "upload_interval_s": self.uplink.upload_interval_s,
            "config_id": None if self.applied is None else self.applied.config_id,
            "adapters": self.health(),
            "sampler": {
                "samples": self.sampler.counters.samples,
                "invalid_values": self.sampler.counters.invalid_values,
                "late_readings": self.sampler.counters.late_readings,
                "lost_samples": self.lost_samples,
            },
            "uplink": {
                "posts": self.uplink.counters.posts,
                "failures": self.uplink.counters.failures,
                "rejected_batches": self.uplink.counters.rejected_batches,
                "last_error": self.uplink.counters.last_error,
            },
        }

    # --- running -------------------------------------------------------------------------------

    def _health_loop(self) -> None:
        while not self._stop.wait(_HEALTH_EVERY_S):
            # On a full disk `_store` logs the outage; the snapshot is simply retried next second.
            with contextlib.suppress(BufferError):
                self.buffer.set_state("health", self._snapshot())

    def stop(self) -> None:
        """Stop sampling and uploading (safe from a signal handler or another thread)."""
        self._stop.set()
        self.sampler.stop()

    def run(self, *, until_drained: bool = False) -> None:
        """Sample and upload until `stop()`. With `until_drained`, also return once every adapter
        has ended (a recorded trip) and the buffer is empty."""
        # Adapters poll at the sampler's rate: the server's last Configure, else agent.toml's
        # (config_id 0 = the local file; an empty PID list keeps each adapter's own).
        start_config = self.applied or Configure(
            config_id=0,
            sample_rate_hz=self.sampler.rate_hz,
            upload_interval_s=max(1, round(self.uplink.upload_interval_s)),
        )
        for adapter in self.adapters:
            try:
                adapter.signal(start_config)
            except AdapterError as exc:
                _log.warning("adapter could not apply the configuration", adapter=adapter.name, error=str(exc))
        _log.info("agent started", device_id=self.key.address, adapters=[a.name for a in self.adapters])
        uplink = threading.Thread(
            target=self.uplink.run, args=(self._stop,), kwargs={"wake": self._wake_uplink}, name="uplink", daemon=True
        )
        health = threading.Thread(target=self._health_loop, name="health", daemon=True)
        trouble = threading.Thread(target=self.trouble_codes.run, args=(self._stop,), name="trouble-codes", daemon=True)
        uplink.start()
        health.start()
        trouble.start()
        try:
            self.sampler.run()
            if until_drained:
                self._wake_uplink.set()
                while not self._stop.is_set() and self.buffer.stats().depth > 0:
                    self._stop.wait(0.1)
                    if self.uplink.counters.last_error is None:
                        self._wake_uplink.set()
            else:
                self._stop.wait()
        finally:
            self.stop()
            uplink.join(timeout=30)
            health.join(timeout=5)
            trouble.join(timeout=30)
            if self._owned_client is not None:
                self._owned_client.close()
            with contextlib.suppress(BufferError):  # a full disk keeps the previous snapshot
                self.buffer.set_state("health", self._snapshot())
            self.uplink.close()
            self.buffer.close()
            _log.info("agent stopped")

"""The NEOT in-car agent: adapters merged by a sampler into a durable SQLite buffer, uploaded as
signed batches until the server acknowledges them. Imports `protocol` and the agent extra only."""

from vehicle_agent._agent import AGENT_VERSION, Agent
from vehicle_agent._buffer import Buffer, BufferStats, PendingBatch
from vehicle_agent._config import AdapterSpec, AgentConfig, AgentSection, ServerSection
from vehicle_agent._errors import AgentConfigError, AgentError, AgentUsageError, BufferError, UplinkError
from vehicle_agent._identity import create_key_file, load_key_file
from vehicle_agent._sampler import Sampler, SamplerCounters, sanitise
from vehicle_agent._uplink import INGEST_PATH, Uplink, UplinkCounters, parse_retry_after

__all__ = [
    "AGENT_VERSION",
    "INGEST_PATH",
    "AdapterSpec",
    "Agent",
    "AgentConfig",
    "AgentConfigError",
    "AgentError",
    "AgentSection",
    "AgentUsageError",
    "Buffer",
    "BufferError",
    "BufferStats",
    "PendingBatch",
    "Sampler",
    "SamplerCounters",
    "ServerSection",
    "Uplink",
    "UplinkCounters",
    "UplinkError",
    "create_key_file",
    "load_key_file",
    "parse_retry_after",
    "sanitise",
]

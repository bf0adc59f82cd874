"""The exception tree of the in-car agent (adapters have their own, `AdapterError`).

AgentError                  anything the agent refuses or cannot do
├── AgentConfigError        a bad agent.toml, or a missing / unsafe key file
├── BufferError             the local buffer cannot be opened or written (disk, corruption)
└── UplinkError             the server answered something the agent cannot act on
"""

__all__ = ["AgentConfigError", "AgentError", "BufferError", "UplinkError"]


class AgentError(Exception):
    """Base of every error raised by `vehicle_agent` outside its adapters."""


class AgentConfigError(AgentError, ValueError):
    """The configuration or the device key cannot be used; the message says what to fix."""


class BufferError(AgentError):
    """The durable buffer failed (a full disk, a corrupt file)."""


class UplinkError(AgentError):
    """The server's answer was not an acknowledgement the agent understands."""

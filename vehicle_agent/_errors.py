"""The exception tree of the in-car agent (adapters have their own, `AdapterError`).

AgentError                  anything the agent refuses or cannot do
├── AgentUsageError         a command line the user can fix: one line on stderr, exit code 2
├── AgentConfigError        a bad agent.toml, or a missing / unsafe key file
├── BufferError             the local buffer cannot be opened or written (disk, corruption)
└── UplinkError             the server answered something the agent cannot act on
"""

__all__ = ["AgentConfigError", "AgentError", "AgentUsageError", "BufferError", "UplinkError"]


class AgentError(Exception):
    """Base of every error raised by `vehicle_agent` outside its adapters."""


class AgentUsageError(AgentError):
    """What the user did wrong and what to do instead; the agent's commands print it without a traceback."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message


class AgentConfigError(AgentError, ValueError):
    """The configuration or the device key cannot be used; the message says what to fix."""


class BufferError(AgentError):
    """The durable buffer failed (a full disk, a corrupt file)."""


class UplinkError(AgentError):
    """The server's answer was not an acknowledgement the agent understands."""

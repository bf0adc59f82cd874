"""The one exception tree of the chain package.

    ChainError                       anything that went wrong talking to NEO or running a node
    ├── ChainConnectionError         the RPC endpoint refused or dropped the connection
    ├── ChainTimeoutError            an RPC call, or waiting for a transaction, ran out of time
    ├── RpcError                     the node answered with a JSON-RPC error (e.g. a rejected tx)
    ├── ContractFault                a script FAULTed in the test invocation; nothing was sent
    │   └── TransactionFaulted       a sent transaction was included but its execution FAULTed
    ├── DeploymentError              no deployment, or an inconsistent one, in the data dir
    └── NodeError                    the local neo-go node could not be started or stopped
        ├── NodeBinaryMissing
        ├── NodeAlreadyRunning
        ├── PortInUse
        └── NodeNotRunning

`ChainTimeoutError` and `ChainConnectionError` are distinct on purpose: a timeout means the node
is slow or the transaction is not in a block yet, a connection error means the node is down or
unreachable. Either carries `tx_hash` when a signed transaction may have reached the node: it can
still be included, so check for it before sending a replacement.
"""

__all__ = [
    "ChainConnectionError",
    "ChainError",
    "ChainTimeoutError",
    "ContractFault",
    "DeploymentError",
    "NodeAlreadyRunning",
    "NodeBinaryMissing",
    "NodeError",
    "NodeNotRunning",
    "PortInUse",
    "RpcError",
    "TransactionFaulted",
]


class ChainError(Exception):
    """Base of every error raised by `chain`."""


class ChainConnectionError(ChainError):
    """The RPC endpoint could not be reached or closed the connection mid-request.

    `tx_hash` is set when a signed transaction may have reached the node before the line dropped.
    """

    def __init__(self, message: str, *, tx_hash: str | None = None) -> None:
        super().__init__(message)
        self.tx_hash = tx_hash


class ChainTimeoutError(ChainError):
    """An RPC call or the wait for inclusion exceeded its time budget.

    `tx_hash` is set when a signed transaction was sent (or being sent): it may still be included.
    """

    def __init__(self, message: str, *, tx_hash: str | None = None) -> None:
        super().__init__(message)
        self.tx_hash = tx_hash


class RpcError(ChainError):
    """The node answered the request with a JSON-RPC error object."""

    def __init__(self, method: str, code: int, message: str) -> None:
        super().__init__(f"{method}: {message} (code {code})")
        self.method = method
        self.code = code
        self.rpc_message = message


class ContractFault(ChainError):
    """The VM FAULTed; `vm_exception` is the contract's own message (e.g. a failed assert)."""

    def __init__(self, operation: str, vm_exception: str | None) -> None:
        super().__init__(f"{operation} FAULTed: {vm_exception or 'no exception message'}")
        self.operation = operation
        self.vm_exception = vm_exception or ""


class TransactionFaulted(ContractFault):
    """The transaction was included in a block (fees paid) but its script FAULTed."""

    def __init__(self, operation: str, vm_exception: str | None, *, tx_hash: str) -> None:
        super().__init__(operation, vm_exception)
        self.tx_hash = tx_hash


class DeploymentError(ChainError):
    """The data dir holds no deployment, or one that does not match the chain."""


class NodeError(ChainError):
    """The local neo-go node could not be started, found or stopped."""


class NodeBinaryMissing(NodeError):
    """The neo-go binary shipped by boa-test-constructor is not installed."""


class NodeAlreadyRunning(NodeError):
    """A node started from this data dir is still running."""


class PortInUse(NodeError):
    """The requested RPC port is already bound by another process."""


class NodeNotRunning(NodeError):
    """No node from this data dir is running."""

"""The payments package's exception tree.

PaymentError                    anything that stops a payment or a reconciliation
├── IdempotencyKeyReusedError   the key was used before with a different request body (422)
├── RequestInProgressError      the first request with this key is still running (409)
├── ChainRefusedError           the VM refuses the operation (test invoke or on-chain FAULT)
├── ChainUnavailableError       the NEO node does not answer, or answers too late
└── UnknownSignerError          no key is configured for the account that must sign
"""

__all__ = [
    "ChainRefusedError",
    "ChainUnavailableError",
    "IdempotencyKeyReusedError",
    "PaymentError",
    "RequestInProgressError",
    "UnknownSignerError",
]


class PaymentError(Exception):
    """Base of every payments error."""


class IdempotencyKeyReusedError(PaymentError):
    """Same `Idempotency-Key`, different request: refusing it is the only safe answer."""


class RequestInProgressError(PaymentError):
    """Another request with the same key is still being processed; retry later for its answer."""


class ChainRefusedError(PaymentError):
    """The chain would not (or did not) execute the transaction; `vm_exception` says why."""

    def __init__(self, message: str, vm_exception: str | None = None) -> None:
        super().__init__(message if not vm_exception else f"{message}: {vm_exception}")
        self.vm_exception = vm_exception


class ChainUnavailableError(PaymentError):
    """The NEO node did not answer; nothing is known about the transaction's fate yet."""


class UnknownSignerError(PaymentError):
    """The server holds no key for the account that must sign this transaction."""

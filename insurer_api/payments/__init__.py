"""Payments: NEOT moved on chain exactly once, every movement in a double-entry ledger.

`execute` runs one payment (intent committed before the transaction is sent, confirmed or
voided from what the chain says); `reconcile` compares the ledger with the chain and finishes or
voids whatever a crash left in flight; `idempotent` answers retried HTTP requests.
"""

from insurer_api.payments._app import (
    IdempotencyKey,
    api_error,
    gateway_of,
    install_from_deployment,
    install_payments,
    royalty_of,
    run_idempotent,
)
from insurer_api.payments._chain import (
    JOB_LOCKED,
    JOB_REFUNDED,
    JOB_RELEASED,
    ChainEvent,
    EscrowGateway,
    EscrowJob,
    PreparedTx,
    TxOutcome,
)
from insurer_api.payments._errors import (
    ChainRefusedError,
    ChainUnavailableError,
    IdempotencyKeyReusedError,
    PaymentError,
    RequestInProgressError,
    UnknownSignerError,
)
from insurer_api.payments._idempotency import StoredResponse, idempotent, request_fingerprint
from insurer_api.payments._ledger import (
    account,
    balance,
    balances,
    deposit_account,
    job_account,
    pending_account,
    post,
    wallet_account,
)
from insurer_api.payments._reconcile import reconcile
from insurer_api.payments._service import (
    IN_FLIGHT,
    PaymentKind,
    Plan,
    execute,
    finish,
    record_observed,
    settle,
)
from models import PaymentState

__all__ = [
    "IN_FLIGHT",
    "JOB_LOCKED",
    "JOB_REFUNDED",
    "JOB_RELEASED",
    "ChainEvent",
    "ChainRefusedError",
    "ChainUnavailableError",
    "EscrowGateway",
    "EscrowJob",
    "IdempotencyKey",
    "IdempotencyKeyReusedError",
    "PaymentError",
    "PaymentKind",
    "PaymentState",
    "Plan",
    "PreparedTx",
    "RequestInProgressError",
    "StoredResponse",
    "TxOutcome",
    "UnknownSignerError",
    "account",
    "api_error",
    "balance",
    "balances",
    "deposit_account",
    "execute",
    "finish",
    "gateway_of",
    "idempotent",
    "install_from_deployment",
    "install_payments",
    "job_account",
    "pending_account",
    "post",
    "reconcile",
    "record_observed",
    "request_fingerprint",
    "royalty_of",
    "run_idempotent",
    "settle",
    "wallet_account",
]

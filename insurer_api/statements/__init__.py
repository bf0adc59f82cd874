"""Monthly premium statements: priced from trip scores by the risk model, charged on chain."""

from insurer_api.statements._charging import ChargeOutcome, StatementCharger, request_charge
from insurer_api.statements._compute import (
    FORMAT,
    StatementDraft,
    compute_statement,
    document_sha256,
    month_window,
    statement_document,
)
from insurer_api.statements._crud import get_statement, issue_statement, list_statements
from insurer_api.statements._models import current_risk_model
from insurer_api.statements._schemas import PaymentRef, StatementIssue, StatementPublic, StatementScoreRef

__all__ = [
    "FORMAT",
    "ChargeOutcome",
    "PaymentRef",
    "StatementCharger",
    "StatementDraft",
    "StatementIssue",
    "StatementPublic",
    "StatementScoreRef",
    "compute_statement",
    "current_risk_model",
    "document_sha256",
    "get_statement",
    "issue_statement",
    "list_statements",
    "month_window",
    "request_charge",
    "statement_document",
]

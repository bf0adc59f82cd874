"""Wiring payments into the insurer API app: the escrow gateway, the royalty account, the charger,
and the mapping of payment and repair errors to HTTP answers."""

from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

from fastapi import FastAPI, Header, Request
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from chain import Deployment
from insurer_api.errors import ApiError, ConflictError, InvalidRequestError
from insurer_api.payments._chain import EscrowGateway
from insurer_api.payments._errors import (
    ChainRefusedError,
    ChainUnavailableError,
    IdempotencyKeyReusedError,
    PaymentError,
    RequestInProgressError,
    UnknownSignerError,
)
from insurer_api.payments._idempotency import idempotent, request_fingerprint
from insurer_api.payments._premiums import charge_statement
from models import Payment, Statement

__all__ = [
    "ChainUnavailableApiError",
    "IdempotencyKey",
    "api_error",
    "gateway_of",
    "install_from_deployment",
    "install_payments",
    "is_final_error",
    "royalty_of",
    "run_idempotent",
]


class ChainUnavailableApiError(ApiError):
    """503: the NEO node (or its configuration) is missing; retrying later may succeed."""

    status_code = 503


def install_payments(app: FastAPI, *, gateway: EscrowGateway, royalty_address: str) -> None:
    """Let `app` move NEOT: repair payouts, premium charges on statement issue."""

    async def charger(session: Session, statement: Statement) -> Payment:
        return await charge_statement(session, gateway, statement)

    app.state.escrow_gateway = gateway
    app.state.royalty_address = royalty_address
    app.state.statement_charger = charger


def install_from_deployment(app: FastAPI, chain_dir: Path, *, royalty_label: str = "royalty") -> EscrowGateway:
    """`install_payments` from a `neot chain deploy` folder: its RPC URL and contracts, every key
    of its wallet as a possible signer, and its `royalty` account as the product author's."""
    deployment = Deployment.load(chain_dir)
    gateway = EscrowGateway.from_deployment(deployment)
    install_payments(app, gateway=gateway, royalty_address=deployment.address(royalty_label))
    return gateway


def gateway_of(request: Request) -> EscrowGateway:
    gateway: EscrowGateway | None = getattr(request.app.state, "escrow_gateway", None)
    if gateway is None:
        raise ChainUnavailableApiError("no NEO chain is configured for payments in this deployment")
    return gateway


def royalty_of(request: Request) -> str:
    address: str | None = getattr(request.app.state, "royalty_address", None)
    if address is None:
        raise ChainUnavailableApiError("no royalty account is configured for payouts in this deployment")
    return address


def api_error(exc: PaymentError) -> ApiError:
    """The HTTP answer for a payments error."""
    match exc:
        case IdempotencyKeyReusedError():
            return InvalidRequestError(str(exc))
        case RequestInProgressError():
            return ConflictError(str(exc))
        case ChainRefusedError():
            return ConflictError(f"the chain refuses: {exc}")
        case ChainUnavailableError() | UnknownSignerError():
            return ChainUnavailableApiError(str(exc))
        case _:
            return ConflictError(str(exc))


def is_final_error(exc: Exception) -> tuple[int, dict[str, Any]] | None:
    """For `idempotent`: a client error is the request's answer; a 503 is not (a retry may work)."""
    if isinstance(exc, PaymentError):
        exc = api_error(exc)
    if isinstance(exc, ApiError) and exc.status_code < 500:
        return exc.status_code, {"detail": exc.message}
    return None


type IdempotencyKey = Annotated[
    str,
    Header(
        alias="Idempotency-Key",
        min_length=1,
        max_length=200,
        pattern=r"^[\x21-\x7e]+$",
        description="A unique string per intended operation; a retry with the same key and body replays the answer",
    ),
]


def run_idempotent(
    request: Request,
    session: Session,
    *,
    principal: str,
    key: str,
    body: Any,
    work: Callable[[], tuple[int, dict[str, Any]]],
    translate: Callable[[Exception], ApiError | None] = lambda _exc: None,
) -> JSONResponse:
    """Answer a money-moving POST once per `Idempotency-Key` (see `_idempotency.py`).

    Errors from `work` become API errors first (`translate`, then the payments mapping), so a
    client error is stored as the key's answer and a 503 is not.
    """

    def guarded() -> tuple[int, dict[str, Any]]:
        try:
            return work()
        except PaymentError as exc:
            raise api_error(exc) from exc
        except ApiError:
            raise
        except Exception as exc:
            mapped = translate(exc)
            if mapped is None:
                raise
            raise mapped from exc

    try:
        answer = idempotent(
            session,
            principal=principal,
            key=key,
            fingerprint=request_fingerprint(method=request.method, path=request.url.path, body=body),
            work=guarded,
            is_final_error=is_final_error,
        )
    except PaymentError as exc:
        raise api_error(exc) from exc
    headers = {"Idempotent-Replayed": "true"} if answer.replayed else None
    return JSONResponse(answer.body, status_code=answer.status_code, headers=headers)

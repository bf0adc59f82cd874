"""The insurer API's exception tree, and the handlers that turn every failure into a clear 4xx.

    ApiError                      any refusal the client can act on (`status_code`, `message`)
    ├── AuthenticationError       401: no, bad or expired credentials
    ├── PermissionDeniedError     403: authenticated, but this role may not do this at all
    ├── NotFoundError             404: no such object, or not one the caller may see
    ├── ConflictError             409: clashes with existing data (duplicate, wrong state)
    └── InvalidRequestError       422: well-formed but meaningless (unknown product, bad period)

Object-level refusals are 404, never 403, so a caller cannot probe which ids exist. Database
integrity and data errors that slip past validation become 409/422 after a rollback; anything
else is logged (without request data) and answered with a bare 500 that leaks nothing.
"""

from typing import Any

import structlog
from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DataError, IntegrityError

__all__ = [
    "ApiError",
    "AuthenticationError",
    "ConflictError",
    "InvalidRequestError",
    "NotFoundError",
    "PermissionDeniedError",
    "install_exception_handlers",
]

_log = structlog.get_logger(__name__)


class ApiError(Exception):
    """A refusal with an HTTP status and a message that says what is wrong."""

    status_code = 400

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class AuthenticationError(ApiError):
    """Missing, malformed, unknown, revoked or expired credentials."""

    status_code = 401


class PermissionDeniedError(ApiError):
    """The caller's role may not use this endpoint."""

    status_code = 403


class NotFoundError(ApiError):
    """The object does not exist, or the caller may not see it (indistinguishable on purpose)."""

    status_code = 404

    @classmethod
    def of(cls, kind: str, object_id: int | str) -> "NotFoundError":
        return cls(f"{kind} {object_id} not found")


class ConflictError(ApiError):
    """The request clashes with existing data or with the object's current state."""

    status_code = 409


class InvalidRequestError(ApiError):
    """The request is well-formed but cannot be carried out as asked."""

    status_code = 422


def _error_body(message: str, **extra: Any) -> dict[str, Any]:
    return {"detail": message, **extra}


async def _api_error(_request: Request, exc: Exception) -> JSONResponse:
    if not isinstance(exc, ApiError):  # registered for ApiError only
        raise TypeError(f"the ApiError handler was given a {type(exc).__name__}") from exc
    headers = {"WWW-Authenticate": "Bearer"} if isinstance(exc, AuthenticationError) else None
    return JSONResponse(_error_body(exc.message), status_code=exc.status_code, headers=headers)


async def _validation_error(_request: Request, exc: Exception) -> JSONResponse:
    """FastAPI's 422 minus the offending `input`: it may be a password or a token."""
    if not isinstance(exc, RequestValidationError):  # registered for RequestValidationError only
        raise TypeError(f"the validation handler was given a {type(exc).__name__}") from exc
    errors = [
        {"loc": list(err.get("loc", ())), "msg": str(err.get("msg", "")), "type": str(err.get("type", ""))}
        for err in exc.errors()
    ]
    summary = "; ".join(f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in errors)
    return JSONResponse(jsonable_encoder(_error_body(f"invalid request: {summary}", errors=errors)), status_code=422)


async def _integrity_error(_request: Request, exc: Exception) -> JSONResponse:
    _log.info("request conflicts with stored data", error_type=type(exc).__name__)
    return JSONResponse(_error_body("the request conflicts with existing data"), status_code=409)


async def _data_error(_request: Request, exc: Exception) -> JSONResponse:
    _log.info("database refused a value", error_type=type(exc).__name__)
    return JSONResponse(_error_body("a value is out of range for its field"), status_code=422)


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    _log.error("unhandled error", method=request.method, path=request.url.path, error_type=type(exc).__name__)
    return JSONResponse(_error_body("internal error"), status_code=500)


def install_exception_handlers(app: FastAPI) -> None:
    """Map our tree and the database's refusals to clear responses on `app`."""
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(IntegrityError, _integrity_error)
    app.add_exception_handler(DataError, _data_error)
    app.add_exception_handler(Exception, _unexpected)

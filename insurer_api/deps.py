"""FastAPI dependencies of the insurer API, as `Annotated` aliases so route signatures stay short.

- `SessionDep`: one database session per request (shared with the mounted scoring routers);
  handlers commit, anything uncommitted rolls back.
- `CurrentUser`: the signed-in user as a `models.User` holding id, role and party (what
  authorisation reads), from `Authorization: Bearer <token>` where the token is a JWT from
  `POST /v1/auth/token` (read from its signed claims, no query) or an API key (`neot_…`, looked
  up on a worker thread). It is not attached to a session; load the row for anything else.
- `require_role(Role.INSURER, …)`: a route dependency refusing other roles with 403; put it in
  the decorator (`dependencies=[require_role(Role.INSURER)]`) so handlers never check roles.
- `SettingsDep`: the app's `neot.settings.Settings`.

Object-level checks (whose row is this?) are done by the data-access functions, which answer
404 for rows the caller may not see.
"""

from collections.abc import AsyncIterator, Callable
from typing import Annotated, Any

from fastapi import Depends, Path, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from insurer_api.auth import (
    API_KEY_MARK,
    InvalidCredentialError,
    RevocationList,
    TokenClaims,
    decode_access_token,
    user_for_api_key,
)
from insurer_api.errors import AuthenticationError, PermissionDeniedError
from insurer_api.schemas import MAX_ID
from models import Role, User
from neot.settings import Settings

__all__ = [
    "CurrentUser",
    "ObjectId",
    "SessionDep",
    "SettingsDep",
    "get_current_user",
    "get_settings_dep",
    "oauth2_scheme",
    "require_role",
]

oauth2_scheme = OAuth2PasswordBearer(
    tokenUrl="/v1/auth/token",
    auto_error=False,
    description="A JWT from `POST /v1/auth/token`, or an API key (`neot_…`) from `POST /v1/auth/api-keys`.",
)


async def get_session(request: Request) -> AsyncIterator[Session]:
    """One session per request on the app's database (`app.state.session_factory`, shared with the
    mounted scoring routes), closed afterwards: anything uncommitted rolls back.

    Async on purpose: creating a session does no I/O (a connection is taken at its first query,
    on the handler's worker thread) and closing it only hands the connection back, so this saves
    two worker-thread hops per request.
    """
    factory: sessionmaker[Session] = request.app.state.session_factory
    session = factory()
    try:
        yield session
    finally:
        session.close()


SessionDep = Annotated[Session, Depends(get_session)]


async def get_settings_dep(request: Request) -> Settings:
    """Async on purpose, as every dependency without I/O here: no worker-thread hop per request."""
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]


async def get_current_user(
    request: Request,
    settings: SettingsDep,
    token: Annotated[str | None, Depends(oauth2_scheme)],
) -> User:
    """The active user behind the bearer credential; 401 for anything missing, bad, expired or revoked.

    Async on purpose: a token is checked from its signature and claims and this process's
    revocation list, with no I/O, so it costs no hop to a worker thread; an API key needs its
    row, which is read on a worker thread with a session of its own (never on the event loop).
    """
    if not token:
        raise AuthenticationError("not signed in: send `Authorization: Bearer <token or API key>`")
    try:
        if token.startswith(API_KEY_MARK):
            factory: sessionmaker[Session] = request.app.state.session_factory
            return await run_in_threadpool(_user_for_key, factory, token)
        claims = decode_access_token(token, secret=settings.secret_key.get_secret_value())
    except InvalidCredentialError as exc:
        raise AuthenticationError(str(exc)) from exc
    revocations: RevocationList = request.app.state.revocations
    if revocations.voids(claims.user_id, claims.issued_at):
        raise AuthenticationError("the account behind this token no longer exists or is disabled")
    return _principal(claims)


def _user_for_key(factory: sessionmaker[Session], key: str) -> User:
    with factory() as session:
        return user_for_api_key(session=session, key=key)


def _principal(claims: TokenClaims) -> User:
    """The user a valid token speaks for, built from its claims (detached: no session, no query)."""
    party, role = claims.party_id, claims.role
    return User(
        id=claims.user_id,
        role=role,
        driver_id=party if role is Role.DRIVER else None,
        insurer_id=party if role is Role.INSURER else None,
        shop_id=party if role is Role.REPAIR_SHOP else None,
        is_active=True,
    )


CurrentUser = Annotated[User, Depends(get_current_user)]


def require_role(*roles: Role) -> Any:
    """A route dependency admitting only `roles` (403 otherwise, 401 when not signed in)."""
    allowed = frozenset(roles)
    names = ", ".join(sorted(r.value for r in allowed))

    async def _check(user: CurrentUser) -> User:
        if user.role not in allowed:
            raise PermissionDeniedError(f"this endpoint is for role(s) {names}; you are {user.role.value}")
        return user

    check: Callable[..., Any] = _check
    return Depends(check)


ObjectId = Annotated[int, Path(ge=1, le=MAX_ID, description="Object id")]

"""FastAPI dependencies of the insurer API, as `Annotated` aliases so route signatures stay short.

- `SessionDep`: one database session per request (shared with the mounted scoring routers);
  handlers commit, anything uncommitted rolls back.
- `CurrentUser`: the signed-in, active `models.User`, from `Authorization: Bearer <token>` where
  the token is a JWT from `POST /v1/auth/token` or an API key (`neot_…`).
- `require_role(Role.INSURER, …)`: a route dependency refusing other roles with 403; put it in
  the decorator (`dependencies=[require_role(Role.INSURER)]`) so handlers never check roles.
- `SettingsDep`: the app's `neot.settings.Settings`.

Object-level checks (whose row is this?) are done by the data-access functions, which answer
404 for rows the caller may not see.
"""

from collections.abc import Callable
from typing import Annotated, Any

from fastapi import Depends, Path, Request
from fastapi.security import OAuth2PasswordBearer
from sqlalchemy.orm import Session

from insurer_api.auth._crud import user_for_api_key
from insurer_api.auth._tokens import API_KEY_MARK, InvalidCredentialError, decode_access_token
from insurer_api.errors import AuthenticationError, PermissionDeniedError
from insurer_api.schemas import MAX_ID
from models import Role, User
from neot.settings import Settings
from scoring_service.api_deps import get_session

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

SessionDep = Annotated[Session, Depends(get_session)]


def get_settings_dep(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


SettingsDep = Annotated[Settings, Depends(get_settings_dep)]


def get_current_user(
    session: SessionDep,
    settings: SettingsDep,
    token: Annotated[str | None, Depends(oauth2_scheme)],
) -> User:
    """The active user behind the bearer credential; 401 for anything missing, bad or expired."""
    if not token:
        raise AuthenticationError("not signed in: send `Authorization: Bearer <token or API key>`")
    try:
        if token.startswith(API_KEY_MARK):
            return user_for_api_key(session=session, key=token)
        claims = decode_access_token(token, secret=settings.secret_key.get_secret_value())
    except InvalidCredentialError as exc:
        raise AuthenticationError(str(exc)) from exc
    user = session.get(User, claims.user_id)
    if user is None or not user.is_active:
        raise AuthenticationError("the account behind this token no longer exists or is disabled")
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


def require_role(*roles: Role) -> Any:
    """A route dependency admitting only `roles` (403 otherwise, 401 when not signed in)."""
    allowed = frozenset(roles)
    names = ", ".join(sorted(r.value for r in allowed))

    def _check(user: CurrentUser) -> User:
        if user.role not in allowed:
            raise PermissionDeniedError(f"this endpoint is for role(s) {names}; you are {user.role.value}")
        return user

    check: Callable[..., User] = _check
    return Depends(check)


ObjectId = Annotated[int, Path(ge=1, le=MAX_ID, description="Object id")]

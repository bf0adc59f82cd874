"""`/v1/auth`: sign in (OAuth2 password flow), who am I, and API keys for machines."""

from typing import Annotated

import structlog
from fastapi import APIRouter, Form, Response

from insurer_api.auth._crud import authenticate, create_api_key, list_api_keys, party_id_of, revoke_api_key
from insurer_api.auth._schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyPublic, Token, UserPublic
from insurer_api.auth._tokens import create_access_token
from insurer_api.deps import CurrentUser, ObjectId, SessionDep, SettingsDep
from insurer_api.errors import AuthenticationError
from insurer_api.pagination import PageDep, respond
from models import User

__all__ = ["router"]

router = APIRouter(prefix="/v1/auth", tags=["auth"])
_log = structlog.get_logger(__name__)

_PRINTABLE = r"^[^\x00-\x1f\x7f]*$"


@router.post("/token", response_model=Token, summary="Sign in with user name and password")
def login(
    session: SessionDep,
    settings: SettingsDep,
    username: Annotated[str, Form(min_length=1, max_length=320, pattern=_PRINTABLE)],
    password: Annotated[str, Form(min_length=1, max_length=256, pattern=_PRINTABLE)],
    grant_type: Annotated[str | None, Form(pattern="^password$")] = None,
) -> Token:
    """OAuth2 password flow: a bearer JWT that expires after the configured lifetime."""
    user = authenticate(session=session, username=username, password=password)
    if user is None:
        _log.info("sign-in refused")
        raise AuthenticationError("wrong user name or password, or the account is disabled")
    access = create_access_token(
        user_id=user.id,
        role=user.role,
        party_id=party_id_of(user),
        secret=settings.secret_key.get_secret_value(),
        ttl_s=settings.access_token_ttl_s,
    )
    _log.info("signed in", user_id=user.id, role=user.role.value)
    return Token(access_token=access.token, expires_at=access.expires_at)


@router.get("/me", response_model=UserPublic, summary="The signed-in user")
def me(user: CurrentUser, session: SessionDep) -> UserPublic:
    row = session.get(User, user.id)  # the token carries no name: the account row does
    if row is None or not row.is_active:
        raise AuthenticationError("the account behind this credential no longer exists or is disabled")
    return UserPublic.model_validate(row)


@router.post("/api-keys", response_model=ApiKeyCreated, status_code=201, summary="Create an API key")
def create_key(body: ApiKeyCreate, user: CurrentUser, session: SessionDep) -> ApiKeyCreated:
    """A key acting as the signed-in user. The secret is in this response only: store it now."""
    row, key = create_api_key(session=session, user=user, name=body.name)
    session.commit()
    _log.info("API key created", user_id=user.id, key_id=row.id, prefix=row.prefix)
    return ApiKeyCreated(
        id=row.id, name=row.name, prefix=row.prefix, created_at=row.created_at, revoked_at=None, key=key
    )


@router.get("/api-keys", response_model=list[ApiKeyPublic], summary="The signed-in user's API keys")
def list_keys(user: CurrentUser, session: SessionDep, page: PageDep, response: Response) -> list[ApiKeyPublic]:
    result = list_api_keys(session=session, user_id=user.id, page=page)
    return [ApiKeyPublic.model_validate(k) for k in respond(response, page, result)]


@router.delete("/api-keys/{key_id}", response_model=ApiKeyPublic, summary="Revoke one of your API keys")
def revoke_key(key_id: ObjectId, user: CurrentUser, session: SessionDep) -> ApiKeyPublic:
    row = revoke_api_key(session=session, user_id=user.id, key_id=key_id)
    session.commit()
    _log.info("API key revoked", user_id=user.id, key_id=row.id)
    return ApiKeyPublic.model_validate(row)

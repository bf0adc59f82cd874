"""Authentication: Argon2id passwords, expiring JWT access tokens, API keys for machines."""

from insurer_api.auth._crud import (
    authenticate,
    create_api_key,
    create_user,
    deactivate_user,
    get_user_by_username,
    list_api_keys,
    normalise_username,
    party_id_of,
    revoke_api_key,
    user_for_api_key,
)
from insurer_api.auth._passwords import hash_password, verify_password
from insurer_api.auth._revocations import RevocationList, poll_revocations
from insurer_api.auth._schemas import ApiKeyCreate, ApiKeyCreated, ApiKeyPublic, Token, UserPublic
from insurer_api.auth._tokens import (
    API_KEY_MARK,
    AccessToken,
    InvalidCredentialError,
    TokenClaims,
    create_access_token,
    decode_access_token,
)

__all__ = [
    "API_KEY_MARK",
    "AccessToken",
    "ApiKeyCreate",
    "ApiKeyCreated",
    "ApiKeyPublic",
    "InvalidCredentialError",
    "RevocationList",
    "Token",
    "TokenClaims",
    "UserPublic",
    "authenticate",
    "create_access_token",
    "create_api_key",
    "create_user",
    "deactivate_user",
    "decode_access_token",
    "get_user_by_username",
    "hash_password",
    "list_api_keys",
    "normalise_username",
    "party_id_of",
    "poll_revocations",
    "revoke_api_key",
    "user_for_api_key",
    "verify_password",
]

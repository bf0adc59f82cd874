"""Access tokens (HS256 JWTs with an expiry) and API keys for machines.

A JWT carries the user id, role and the party the user acts for (driver, insurer or shop), which
is everything authorisation reads: a request with a token costs no query. A disabled account's
tokens are voided through `credential_revocations` (see `RevocationList`), which every API
process polls, so they stop working within one poll although unexpired.

An API key reads `neot_<prefix>_<secret>`: the prefix finds the row, the secret is compared by
SHA-256 in constant time. It is told apart from a JWT by its `neot_` start.
"""

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import jwt

from models import Role, utcnow

__all__ = [
    "API_KEY_MARK",
    "AccessToken",
    "GeneratedApiKey",
    "InvalidCredentialError",
    "TokenClaims",
    "api_key_matches",
    "create_access_token",
    "decode_access_token",
    "generate_api_key",
    "split_api_key",
]

_ALGORITHM = "HS256"
_AUDIENCE = "neot-api"
API_KEY_MARK = "neot_"
_PREFIX_BYTES = 6
_SECRET_BYTES = 32


class InvalidCredentialError(ValueError):
    """A token or key that is malformed, forged or expired. The message never repeats the credential."""


@dataclass(frozen=True, slots=True)
class AccessToken:
    token: str
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class TokenClaims:
    """What a valid token says: who, in which role, for which party (None for admins), since when."""

    user_id: int
    role: Role
    party_id: int | None
    issued_at: int  # UTC seconds since the epoch


def create_access_token(
    *, user_id: int, role: Role, party_id: int | None, secret: str, ttl_s: int, now: datetime | None = None
) -> AccessToken:
    """A signed token for `user_id` acting for `party_id` that expires `ttl_s` seconds from `now`."""
    issued = now or utcnow()
    expires = issued + timedelta(seconds=ttl_s)
    claims = {
        "sub": str(user_id),
        "role": role.value,
        "pid": party_id,
        "aud": _AUDIENCE,
        "iat": issued,
        "exp": expires,
    }
    return AccessToken(token=jwt.encode(claims, secret, algorithm=_ALGORITHM), expires_at=expires)


def decode_access_token(token: str, *, secret: str) -> TokenClaims:
    """The claims of a valid, unexpired token signed with `secret`."""
    try:
        claims = jwt.decode(
            token,
            secret,
            algorithms=[_ALGORITHM],
            audience=_AUDIENCE,
            options={"require": ["sub", "exp", "iat", "aud", "role"]},  # `pid` may be null: checked below
        )
    except jwt.ExpiredSignatureError as exc:
        raise InvalidCredentialError("the access token has expired; sign in again") from exc
    except jwt.PyJWTError as exc:
        raise InvalidCredentialError("the access token is not valid") from exc
    try:
        role, party, issued = Role(claims["role"]), claims["pid"], claims["iat"]  # KeyError: no `pid`
        if (party is None) != (role is Role.ADMIN) or not isinstance(party, int | None) or not isinstance(issued, int):
            raise ValueError("role and party disagree")
        return TokenClaims(user_id=int(claims["sub"]), role=role, party_id=party, issued_at=issued)
    except (KeyError, ValueError, TypeError) as exc:
        raise InvalidCredentialError("the access token is not valid") from exc


@dataclass(frozen=True, slots=True)
class GeneratedApiKey:
    """A fresh key: `key` is shown to its owner once; only `prefix` and `secret_sha256` are stored."""

    key: str
    prefix: str
    secret_sha256: bytes


def generate_api_key() -> GeneratedApiKey:
    prefix = secrets.token_hex(_PREFIX_BYTES)
    secret = secrets.token_urlsafe(_SECRET_BYTES)
    return GeneratedApiKey(
        key=f"{API_KEY_MARK}{prefix}_{secret}",
        prefix=prefix,
        secret_sha256=hashlib.sha256(secret.encode()).digest(),
    )


def split_api_key(key: str) -> tuple[str, str]:
    """(prefix, secret) of a key of the right shape."""
    body = key.removeprefix(API_KEY_MARK)
    prefix, sep, secret = body.partition("_")
    if not key.startswith(API_KEY_MARK) or not sep or len(prefix) != 2 * _PREFIX_BYTES or not secret:
        raise InvalidCredentialError("the API key is malformed")
    return prefix, secret


def api_key_matches(secret: str, stored_sha256: bytes) -> bool:
    """Constant-time comparison of a presented secret with the stored digest."""
    return hmac.compare_digest(hashlib.sha256(secret.encode()).digest(), stored_sha256)

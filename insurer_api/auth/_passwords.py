"""Password hashing with Argon2id (argon2-cffi's RFC 9106 low-memory defaults)."""

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

__all__ = ["hash_password", "verify_against_nothing", "verify_password"]

_hasher = PasswordHasher()
# Verified when the user does not exist, so an unknown name costs as long as a wrong password.
_DUMMY_HASH = _hasher.hash("no such user: this hash only equalises timing")


def hash_password(password: str) -> str:
    """An encoded Argon2id hash (salt and parameters included)."""
    return _hasher.hash(password)


def verify_password(password: str, encoded: str) -> bool:
    """True when `password` matches; a corrupt stored hash counts as no match, never as a crash."""
    try:
        return _hasher.verify(encoded, password)
    except (VerificationError, InvalidHashError):
        return False


def verify_against_nothing(password: str) -> None:
    """Spend the time of one verification, for a sign-in attempt with an unknown user name."""
    verify_password(password, _DUMMY_HASH)

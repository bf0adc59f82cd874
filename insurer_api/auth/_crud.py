"""Data access for users and API keys. Functions take keyword arguments only and never commit:
the route handler owns the transaction, so a refused request leaves nothing half-written."""

from sqlalchemy import select
from sqlalchemy.orm import Session

from insurer_api.auth._passwords import hash_password, verify_against_nothing, verify_password
from insurer_api.auth._tokens import InvalidCredentialError, api_key_matches, generate_api_key, split_api_key
from insurer_api.errors import ConflictError, NotFoundError
from insurer_api.pagination import Page, Paged, by_id, paged
from models import ApiKey, CredentialRevocation, Role, User, utcnow

__all__ = [
    "authenticate",
    "create_api_key",
    "create_user",
    "deactivate_user",
    "get_user_by_username",
    "list_api_keys",
    "normalise_username",
    "party_id_of",
    "revoke_api_key",
    "user_for_api_key",
]


def normalise_username(username: str) -> str:
    """User names (usually e-mail addresses) compare case-insensitively and without edge spaces."""
    return username.strip().lower()


def get_user_by_username(*, session: Session, username: str) -> User | None:
    return session.scalar(select(User).where(User.username == normalise_username(username)))


def create_user(
    *,
    session: Session,
    username: str,
    password: str,
    role: Role,
    driver_id: int | None = None,
    insurer_id: int | None = None,
    shop_id: int | None = None,
) -> User:
    """A new active user acting for the given party (the schema checks role and party agree)."""
    if get_user_by_username(session=session, username=username) is not None:
        raise ConflictError(f"user name {normalise_username(username)!r} is already taken")
    user = User(
        username=normalise_username(username),
        password_hash=hash_password(password),
        role=role,
        driver_id=driver_id,
        insurer_id=insurer_id,
        shop_id=shop_id,
        is_active=True,
    )
    session.add(user)
    session.flush()
    return user


def authenticate(*, session: Session, username: str, password: str) -> User | None:
    """The active user with these credentials, or None; the same cost whether or not the name exists."""
    user = get_user_by_username(session=session, username=username)
    if user is None:
        verify_against_nothing(password)
        return None
    if not verify_password(password, user.password_hash) or not user.is_active:
        return None
    return user


def user_for_api_key(*, session: Session, key: str) -> User:
    """The active owner of an unrevoked API key; `InvalidCredentialError` otherwise."""
    prefix, secret = split_api_key(key)
    row = session.scalar(select(ApiKey).where(ApiKey.prefix == prefix))
    if row is None or row.revoked_at is not None or not api_key_matches(secret, row.secret_sha256):
        raise InvalidCredentialError("the API key is not valid")
    user = session.get(User, row.user_id)
    if user is None or not user.is_active:
        raise InvalidCredentialError("the API key is not valid")
    return user


def create_api_key(*, session: Session, user: User, name: str) -> tuple[ApiKey, str]:
    """A new key for `user` and its full text, which is returned here once and never stored."""
    generated = generate_api_key()
    row = ApiKey(user_id=user.id, name=name, prefix=generated.prefix, secret_sha256=generated.secret_sha256)
    session.add(row)
    session.flush()
    return row, generated.key


def list_api_keys(*, session: Session, user_id: int, page: Page) -> Paged[ApiKey]:
    query = page.apply(select(ApiKey).where(ApiKey.user_id == user_id), ApiKey.id)
    return paged(session.scalars(query).all(), page, by_id)


def revoke_api_key(*, session: Session, user_id: int, key_id: int) -> ApiKey:
    """Revoke one of the user's own keys; someone else's key is reported as not found."""
    row = session.get(ApiKey, key_id)
    if row is None or row.user_id != user_id:
        raise NotFoundError.of("API key", key_id)
    if row.revoked_at is None:
        row.revoked_at = utcnow()
    return row


def party_id_of(user: User) -> int | None:
    """The id of the party `user` acts for: its driver, insurer or shop (None for an admin)."""
    return user.driver_id or user.insurer_id or user.shop_id


def deactivate_user(*, session: Session, user_id: int) -> CredentialRevocation:
    """Disable the account and void its access tokens (API keys stop with the account).

    The revocation row is what API processes poll; apply it to this process's `RevocationList`
    after commit to refuse the tokens here at once.
    """
    user = session.get(User, user_id)
    if user is None:
        raise NotFoundError.of("user", user_id)
    user.is_active = False
    revocation = CredentialRevocation(user_id=user_id, revoked_at=utcnow())
    session.add(revocation)
    session.flush()
    return revocation

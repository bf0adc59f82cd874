"""Sign-in and credentials over HTTP: Argon2id hashes, expiring JWTs, revocable API keys, roles,
and a signing key that is refused at its default outside development."""

import time
from datetime import timedelta

import jwt
import pytest
from api_world import ADMIN_PASSWORD, ADMIN_USERNAME, TEST_SECRET_KEY, Api
from pydantic import ValidationError
from sqlalchemy import select

from insurer_api.auth import create_access_token, deactivate_user
from models import Role, User, utcnow
from neot.settings import DEFAULT_SECRET_KEY, Environment, Settings


def _bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_default_secret_is_refused_outside_development() -> None:
    assert Settings(environment=Environment.DEVELOPMENT).secret_key.get_secret_value() == DEFAULT_SECRET_KEY
    for environment in (Environment.STAGING, Environment.PRODUCTION):
        with pytest.raises(ValidationError, match="NEOT_SECRET_KEY") as refused:
            Settings(environment=environment)
        assert DEFAULT_SECRET_KEY not in str(refused.value)
        with pytest.raises(ValidationError, match="at least 32") as short:
            Settings(environment=environment, secret_key="short-but-secret")  # type: ignore[arg-type]
        assert "short-but-secret" not in str(short.value)
    accepted = Settings(environment=Environment.PRODUCTION, secret_key=TEST_SECRET_KEY)  # type: ignore[arg-type]
    assert accepted.secret_key.get_secret_value() == TEST_SECRET_KEY


def test_passwords_are_stored_as_argon2id(api: Api) -> None:
    with api.session_factory() as session:
        admin = session.scalar(select(User).where(User.username == ADMIN_USERNAME))
        assert admin is not None
        assert admin.password_hash.startswith("$argon2id$") and ADMIN_PASSWORD not in admin.password_hash


def test_tokens_expire_and_must_be_ours(api: Api) -> None:
    client = api.client
    assert client.get("/v1/auth/me").status_code == 401
    good = api.token(ADMIN_USERNAME.upper(), ADMIN_PASSWORD)  # user names are case-insensitive
    me = client.get("/v1/auth/me", headers=_bearer(good))
    assert me.status_code == 200 and me.json()["role"] == "admin"

    admin_id = me.json()["id"]
    expired = create_access_token(
        user_id=admin_id,
        role=Role.ADMIN,
        party_id=None,
        secret=TEST_SECRET_KEY,
        ttl_s=60,
        now=utcnow() - timedelta(minutes=5),
    ).token
    answer = client.get("/v1/auth/me", headers=_bearer(expired))
    assert answer.status_code == 401 and "expired" in answer.json()["detail"]
    assert answer.headers["www-authenticate"] == "Bearer"

    forged = create_access_token(user_id=admin_id, role=Role.ADMIN, party_id=None, secret="x" * 40, ttl_s=60).token
    assert client.get("/v1/auth/me", headers=_bearer(forged)).status_code == 401
    wrong = client.post("/v1/auth/token", data={"username": ADMIN_USERNAME, "password": "not-the-password"})
    unknown = client.post("/v1/auth/token", data={"username": "nobody@neot.test", "password": "not-the-password"})
    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()  # no hint which of the two was wrong


def test_api_keys_work_until_revoked_and_only_for_active_users(api: Api) -> None:
    client = api.client
    admin = _bearer(api.token(ADMIN_USERNAME, ADMIN_PASSWORD))
    created = client.post("/v1/auth/api-keys", json={"name": "nightly statements"}, headers=admin)
    assert created.status_code == 201
    key = created.json()["key"]
    assert key.startswith("neot_") and client.get("/v1/auth/me", headers=_bearer(key)).status_code == 200
    assert client.get("/v1/auth/me", headers=_bearer(key[:-1] + ("A" if key[-1] != "A" else "B"))).status_code == 401
    assert client.get("/v1/auth/me", headers=_bearer("neot_garbage")).status_code == 401

    revoked = client.delete(f"/v1/auth/api-keys/{created.json()['id']}", headers=admin)
    assert revoked.status_code == 200 and revoked.json()["revoked_at"] is not None
    assert client.get("/v1/auth/me", headers=_bearer(key)).status_code == 401

    second = client.post("/v1/auth/api-keys", json={"name": "other"}, headers=admin).json()["key"]
    token = api.token(ADMIN_USERNAME, ADMIN_PASSWORD)
    with api.session_factory() as session:
        user = session.scalar(select(User).where(User.username == ADMIN_USERNAME))
        assert user is not None
        user.is_active = False  # disabled behind the API's back: the key's row says so at once
        session.commit()
    assert client.get("/v1/auth/me", headers=_bearer(second)).status_code == 401
    sign_in = client.post("/v1/auth/token", data={"username": ADMIN_USERNAME, "password": ADMIN_PASSWORD})
    assert sign_in.status_code == 401
    del token


def _driver_with_credentials(api: Api, email: str) -> tuple[int, str, str]:
    signup = {"name": "Dora", "email": email, "password": "dora-password"}
    driver = api.client.post("/v1/drivers", json=signup)
    assert driver.status_code == 201
    token = api.token(email, "dora-password")
    me = api.client.get("/v1/auth/me", headers=_bearer(token)).json()
    key = api.client.post("/v1/auth/api-keys", json={"name": "car app"}, headers=_bearer(token)).json()["key"]
    return me["id"], token, key


def test_a_disabled_account_is_refused_at_once_by_the_process_that_disabled_it(api: Api) -> None:
    user_id, token, key = _driver_with_credentials(api, "dora@drivers.test")
    admin = _bearer(api.token(ADMIN_USERNAME, ADMIN_PASSWORD))
    assert api.client.get("/v1/vehicles", headers=_bearer(token)).status_code == 200
    stranger = api.client.post(f"/v1/users/{user_id}/deactivate", headers=_bearer(token))
    assert stranger.status_code == 403  # only an admin disables accounts
    disabled = api.client.post(f"/v1/users/{user_id}/deactivate", headers=admin)
    assert disabled.status_code == 200 and disabled.json()["is_active"] is False
    for credential in (token, key):
        for path in ("/v1/auth/me", "/v1/vehicles"):
            assert api.client.get(path, headers=_bearer(credential)).status_code == 401, (path, credential[:5])


def test_a_token_voided_by_another_process_is_refused_within_one_poll(api: Api) -> None:
    """Another API process disables the account: this one learns it from `credential_revocations`
    at its next poll (`NEOT_REVOCATION_POLL_S`), not per request."""
    user_id, token, _key = _driver_with_credentials(api, "dan@drivers.test")
    assert api.client.get("/v1/vehicles", headers=_bearer(token)).status_code == 200
    with api.session_factory() as session:
        deactivate_user(session=session, user_id=user_id)
        session.commit()
    deadline = time.monotonic() + 5 * api.settings.revocation_poll_s + 2
    refused_after = None
    while time.monotonic() < deadline:
        if api.client.get("/v1/vehicles", headers=_bearer(token)).status_code == 401:
            refused_after = time.monotonic()
            break
        time.sleep(0.05)
    assert refused_after is not None, "a revoked token was still accepted after five polls"
    fresh = api.client.post("/v1/auth/token", data={"username": "dan@drivers.test", "password": "dora-password"})
    assert fresh.status_code == 401


def test_a_token_names_its_party_and_a_tampered_claim_is_refused(api: Api) -> None:
    user_id, token, _key = _driver_with_credentials(api, "dee@drivers.test")
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["sub"] == str(user_id) and claims["role"] == "driver" and isinstance(claims["pid"], int)
    other = jwt.encode({**claims, "pid": claims["pid"] + 1}, "not-the-key-" * 4, algorithm="HS256")
    assert api.client.get("/v1/vehicles", headers=_bearer(other)).status_code == 401
    no_party = jwt.encode({k: v for k, v in claims.items() if k != "pid"}, TEST_SECRET_KEY, algorithm="HS256")
    assert api.client.get("/v1/vehicles", headers=_bearer(no_party)).status_code == 401
    admin_as_driver = jwt.encode({**claims, "role": "admin"}, TEST_SECRET_KEY, algorithm="HS256")
    assert api.client.get("/v1/vehicles", headers=_bearer(admin_as_driver)).status_code == 401


def test_roles_are_checked_before_anything_else(api: Api) -> None:
    client = api.client
    signup = {"name": "Eve", "email": "eve@drivers.test", "password": "eve-password"}
    assert client.post("/v1/drivers", json=signup).status_code == 201
    assert client.post("/v1/drivers", json=signup).status_code == 409
    driver = _bearer(api.token("eve@drivers.test", "eve-password"))
    refused = client.post("/v1/insurers", json={}, headers=driver)
    assert refused.status_code == 403 and "admin" in refused.json()["detail"] and "driver" in refused.json()["detail"]
    bad_role = client.post(
        "/v1/users",
        headers=_bearer(api.token(ADMIN_USERNAME, ADMIN_PASSWORD)),
        json={"username": "s@shops.test", "password": "shop-password", "role": "repair_shop"},
    )
    assert bad_role.status_code == 422 and "party_id" in bad_role.json()["detail"]

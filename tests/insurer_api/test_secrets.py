"""Passwords, access tokens, API keys, the signing key and device private keys never appear in
logs or in responses (other than the one response that hands out a token or key)."""

import logging

import pytest
from api_world import PASSWORD, TEST_SECRET_KEY, World

from protocol import DeviceKey


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(f"{record.getMessage()} {record.__dict__}")


def test_no_secret_reaches_a_log_or_a_response(world: World, capfd: pytest.CaptureFixture[str]) -> None:
    collect = _Collect()
    root = logging.getLogger()
    root.addHandler(collect)
    previous_level = root.level
    root.setLevel(logging.DEBUG)
    bodies: list[str] = []
    try:
        key = DeviceKey.generate()
        signup_password = "another-s3cret-pass"
        signup = world.call(
            None,
            "POST",
            "/v1/drivers",
            json={"name": "Carol", "email": "carol@drivers.test", "password": signup_password},
        )
        bodies.append(signup.text)
        issued = world.call(
            None, "POST", "/v1/auth/token", data={"username": "carol@drivers.test", "password": signup_password}
        )
        token = issued.json()["access_token"]
        headers = {"Authorization": f"Bearer {token}"}
        created = world.api.client.post("/v1/auth/api-keys", json={"name": "ci"}, headers=headers)
        api_key = created.json()["key"]
        for response in (
            world.api.client.get("/v1/auth/me", headers=headers),
            world.api.client.get("/v1/auth/api-keys", headers=headers),
            world.api.client.get("/v1/auth/me", headers={"Authorization": f"Bearer {api_key}"}),
            world.api.client.post("/v1/vehicles", json={"vin": "1HGCM82633A004352"}, headers=headers),
            world.call(None, "POST", "/v1/auth/token", data={"username": "carol@drivers.test", "password": "wrong-1"}),
            world.call(None, "POST", "/v1/auth/token", data={"username": "carol@drivers.test", "password": ""}),
            world.call(None, "POST", "/v1/drivers", json={"name": "D", "email": "d@x.test", "password": "short"}),
            world.call(
                None,
                "POST",
                "/v1/drivers",
                json={"name": "Carol", "email": "carol@drivers.test", "password": signup_password},
            ),
            world.api.client.get("/v1/auth/me", headers={"Authorization": f"Bearer {token}x"}),
            world.api.client.get("/v1/auth/me", headers={"Authorization": f"Bearer {api_key[:-2]}zz"}),
            world.call(
                "driver_a",
                "POST",
                f"/v1/vehicles/{world.ids['vehicle_a']}/devices",
                json={"public_key": key.public_key.hex()},
            ),
        ):
            assert response.status_code < 500, response.text
            bodies.append(response.text)
        assert "password" not in world.api.client.get("/v1/auth/me", headers=headers).text
        listing = world.api.client.get("/v1/auth/api-keys", headers=headers).json()
    finally:
        root.removeHandler(collect)
        root.setLevel(previous_level)
    out, err = capfd.readouterr()
    logs = "\n".join([*collect.lines, out, err])
    assert "signed in" in logs, "the capture saw no log lines at all: it would prove nothing"

    secrets = {
        "signup password": signup_password,
        "world password": PASSWORD,
        "access token": token,
        "access token signature": token.rsplit(".", 1)[1],
        "API key": api_key,
        "API key secret": api_key.split("_", 2)[2],  # neot_<hex prefix>_<secret>; the secret may hold "_"
        "token signing key": TEST_SECRET_KEY,
        "device private key": key.private_bytes().hex(),
    }
    for name, secret in secrets.items():
        assert secret not in logs, f"{name} appears in the logs"
        for body in bodies:
            assert secret not in body, f"{name} appears in a response: {body[:200]}"
    # the listing shows the key's public prefix only
    assert [k["prefix"] for k in listing] == [api_key.split("_")[1]]
    assert all("key" not in k for k in listing)

"""The demo talks to the insurer API over HTTP like any client: one signed-in session per person."""

import time
import uuid
from typing import Any

import httpx

__all__ = ["ApiClient", "DemoError"]


class DemoError(RuntimeError):
    """A demo step failed; the message says which and what the other side answered."""


class ApiClient:
    """A base-URL HTTP client that remembers one bearer token per person."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self._http = httpx.Client(base_url=base_url, timeout=60)
        self._tokens: dict[str, str] = {}

    def wait_healthy(self, timeout_s: float = 60.0) -> None:
        """Wait until `/health` answers 200 (the server process has started and migrated)."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                if self._http.get("/health").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        raise DemoError(f"the API at {self.base_url} did not answer /health within {timeout_s:.0f} s")

    def sign_in(self, who: str, username: str, password: str) -> None:
        """Sign `who` in with the OAuth2 password flow; later calls as `who` carry the token."""
        response = self._http.post("/v1/auth/token", data={"username": username, "password": password})
        self._check(response, f"sign-in of {who}")
        self._tokens[who] = response.json()["access_token"]

    def call(
        self,
        who: str | None,
        method: str,
        path: str,
        *,
        json: Any = None,
        idempotent: bool = False,
    ) -> Any:
        """One request as `who` (None: anonymous); money-moving POSTs get a fresh Idempotency-Key."""
        headers = {} if who is None else {"Authorization": f"Bearer {self._tokens[who]}"}
        if idempotent:
            headers["Idempotency-Key"] = f"demo-{uuid.uuid4()}"
        response = self._http.request(method, path, json=json, headers=headers)
        self._check(response, f"{method} {path} as {who or 'anonymous'}")
        return response.json()

    def close(self) -> None:
        self._http.close()

    @staticmethod
    def _check(response: httpx.Response, what: str) -> None:
        if response.status_code >= 400:
            raise DemoError(f"{what} answered {response.status_code}: {response.text[:300]}")

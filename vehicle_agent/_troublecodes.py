"""Report the car's trouble codes to the insurer: a new code opens a repair job, a cleared one
lets the job complete. The reporter asks every adapter that can read codes (the OBD-II adapter)
on a fixed interval and posts a signed report whenever the set of active codes changes; the set
last acknowledged by the server is kept in the buffer file, so a restart neither re-reports nor
forgets a change. A failed post is retried at the next interval."""

import hashlib
import json
import threading
import time
from collections.abc import Sequence

import httpx
import structlog

from protocol import TROUBLE_CODES_PATH, DeviceKey, sign_trouble_codes
from vehicle_agent._buffer import Buffer
from vehicle_agent.adapters import Adapter, AdapterError, DtcReport, ReadDtcs

__all__ = ["TroubleCodeReporter"]

_log = structlog.get_logger(__name__)
_STATE = "trouble_codes_reported"


class TroubleCodeReporter:
    """Polls adapters for trouble codes and posts changes, signed by the device key."""

    def __init__(
        self,
        *,
        adapters: Sequence[Adapter],
        key: DeviceKey,
        buffer: Buffer,
        server_url: str,
        client: httpx.Client,
        interval_s: float,
    ) -> None:
        self._adapters = adapters
        self._key = key
        self._buffer = buffer
        self._url = server_url.rstrip("/") + TROUBLE_CODES_PATH
        self._client = client
        self.interval_s = interval_s

    def active_codes(self) -> set[str] | None:
        """The codes stored in the car now, or None when no adapter could answer."""
        codes: set[str] = set()
        answered = False
        for adapter in self._adapters:
            try:
                reply = adapter.signal(ReadDtcs())
            except AdapterError:  # a GPS or replay source has no trouble codes
                continue
            if isinstance(reply, DtcReport) and reply.ok:
                answered = True
                codes.update(dtc.code.upper() for dtc in reply.codes)
        return codes if answered else None

    def poll_once(self) -> bool:
        """Read the codes and report them if they changed; True when the server now has them."""
        codes = self.active_codes()
        if codes is None:
            return False
        reported = self._buffer.get_state(_STATE)
        if (reported is None and not codes) or reported == sorted(codes):
            return True
        body = sign_trouble_codes(self._key, sorted(codes), time.time_ns())
        raw = json.dumps(body, sort_keys=True).encode()
        key = "dtc-" + hashlib.sha256(raw).hexdigest()[:40]
        try:
            response = self._client.post(
                self._url, content=raw, headers={"Content-Type": "application/json", "Idempotency-Key": key}
            )
        except httpx.HTTPError as exc:
            _log.warning("trouble-code report not delivered; retrying later", error=str(exc))
            return False
        if response.status_code != 200:
            _log.warning("trouble-code report refused", status=response.status_code, detail=response.text[:200])
            return False
        self._buffer.set_state(_STATE, sorted(codes))
        _log.info("trouble codes reported", codes=sorted(codes))
        return True

    def run(self, stop: threading.Event) -> None:
        """Poll until `stop` is set."""
        while not stop.wait(self.interval_s):
            self.poll_once()

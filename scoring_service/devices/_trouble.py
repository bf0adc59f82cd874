"""Trouble-code reports: authenticated and stored at the device edge, then handed to whoever acts
on them.

The scoring service must not know the repair business (it sits below the insurer API), so the
insurer API registers a `TroubleCodeHandler` on its app when it builds it (`install_trouble_code_handler`);
the handler's answer is the device's answer. A process with no handler (the scoring service on its
own) keeps the report and answers that no intake acted on it.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from fastapi import FastAPI, Request, Response
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from models import TroubleCodeReport
from protocol import trouble_codes_message
from scoring_service.devices._auth import AuthenticatedDevice, DeviceSignature, authenticate_device
from scoring_service.devices._errors import StaleReportError

__all__ = [
    "REPORT_WINDOW_NS",
    "TroubleCodeHandler",
    "TroubleCodes",
    "accept_trouble_codes",
    "install_trouble_code_handler",
    "trouble_code_handler",
]

#: A signed report sent further than this from the server's clock is refused (replay protection).
REPORT_WINDOW_NS = 10 * 60 * 10**9


@dataclass(frozen=True, slots=True)
class TroubleCodes:
    """A stored trouble-code report of an authenticated device: every code active in the car."""

    report_id: int
    device: AuthenticatedDevice
    codes: tuple[str, ...]
    sent_ns: int
    signature: bytes


#: Acts on a stored report within the request that delivered it; its response goes to the device.
type TroubleCodeHandler = Callable[[TroubleCodes, Request, Session], Response]


def install_trouble_code_handler(app: FastAPI, handler: TroubleCodeHandler) -> None:
    """Hand every trouble-code report `app` accepts to `handler`."""
    app.state.trouble_code_handler = handler


def trouble_code_handler(app: FastAPI) -> TroubleCodeHandler | None:
    """The handler installed on `app`, if any."""
    handler: TroubleCodeHandler | None = getattr(app.state, "trouble_code_handler", None)
    return handler


def accept_trouble_codes(
    session: Session, *, device: str, codes: Sequence[str], sent_ns: int, signature: bytes, now_ns: int
) -> TroubleCodes:
    """Authenticate a report and store it once per (device, sent_ns). Does not commit.

    Raises `UnknownDeviceError`, `BadSignatureError` or `StaleReportError`; then nothing is stored.
    """
    signed = DeviceSignature(address=device, message=trouble_codes_message(device, codes, sent_ns), signature=signature)
    sender = authenticate_device(session.connection(), signed)
    if abs(now_ns - sent_ns) > REPORT_WINDOW_NS:
        raise StaleReportError(
            f"sent_ns is more than {REPORT_WINDOW_NS // 60_000_000_000} minutes away from the server clock",
            field="sent_ns",
        )
    values = {"device_id": sender.id, "sent_ns": sent_ns, "codes": list(codes), "signature": signature}
    conn = session.connection()
    insert = postgresql.insert if conn.dialect.name == "postgresql" else sqlite.insert
    conn.execute(
        insert(TroubleCodeReport).values(values).on_conflict_do_nothing(index_elements=["device_id", "sent_ns"])
    )
    # inserted now, or by an identical retry before: either way the row is there
    report_id = session.scalars(
        select(TroubleCodeReport.id).where(
            TroubleCodeReport.device_id == sender.id, TroubleCodeReport.sent_ns == sent_ns
        )
    ).one()
    return TroubleCodes(report_id=report_id, device=sender, codes=tuple(codes), sent_ns=sent_ns, signature=signature)

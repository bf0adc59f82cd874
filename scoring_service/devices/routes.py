"""`POST /v1/devices/trouble-codes`: a device reports the trouble codes stored in its car.

Signed by the device key in the body (no bearer token). The report is authenticated and stored
here, then handed to the handler the app installed (the insurer API's repair intake), whose
answer goes back to the device.
"""

import time
from typing import Annotated, Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field, StringConstraints

from scoring_service.api_deps import SessionDep
from scoring_service.devices._errors import DeviceEdgeError
from scoring_service.devices._trouble import accept_trouble_codes, trouble_code_handler

__all__ = ["TroubleCodesBody", "router"]

router = APIRouter(prefix="/v1/devices", tags=["devices"])

# SAE J2012: P/C/B/U, then four hex digits (P0301, C1234, U0100).
type Dtc = Annotated[str, StringConstraints(strip_whitespace=True, to_upper=True, pattern=r"^[PCBU][0-9A-F]{4}$")]


class TroubleCodesBody(BaseModel):
    """A vehicle's active trouble codes, signed by its device key.

    `signature` is the device's secp256r1 signature (64 bytes r‖s, hex) over the canonical JSON of
    `{"codes": [...], "device": "<address>", "sent_ns": <int>}` (`protocol.sign_trouble_codes`).
    """

    device: Annotated[str, StringConstraints(pattern=r"^N[1-9A-HJ-NP-Za-km-z]{33}$")]
    sent_ns: int = Field(ge=0, le=2**63 - 1)
    codes: list[Dtc] = Field(max_length=64)
    signature: Annotated[str, StringConstraints(pattern=r"^[0-9a-fA-F]{128}$")]


_ERROR = {"content": {"application/json": {"example": {"detail": "what is wrong", "field": "signature"}}}}
_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"description": "Stored; the repair intake's answer (jobs opened or completed), if this app has one"},
    401: {"description": "Signature does not verify with the registered key", **_ERROR},
    403: {"description": "Device not registered", **_ERROR},
    422: {"description": "Not a well-formed report, or sent too far from the server clock", **_ERROR},
}


@router.post(
    "/trouble-codes", responses=_RESPONSES, response_class=Response, summary="A vehicle reports its trouble codes"
)
def post_trouble_codes(body: TroubleCodesBody, session: SessionDep, request: Request) -> Response:
    """New codes open repair jobs and vanished codes verify their completion, in the repair intake
    the app installed; without one the report is kept and `jobs` is empty."""
    try:
        report = accept_trouble_codes(
            session,
            device=body.device,
            codes=body.codes,
            sent_ns=body.sent_ns,
            signature=bytes.fromhex(body.signature),
            now_ns=time.time_ns(),
        )
    except DeviceEdgeError as exc:
        return JSONResponse({"detail": exc.message, "field": exc.field}, status_code=exc.status_code)
    session.commit()
    handler = trouble_code_handler(request.app)
    if handler is None:
        return JSONResponse({"report_id": report.report_id, "jobs": []})
    return handler(report, request, session)

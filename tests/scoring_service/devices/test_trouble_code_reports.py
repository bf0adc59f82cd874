"""`POST /v1/devices/trouble-codes` at the device edge, through a real uvicorn server on SQLite and
PostgreSQL: one authentication, stored once, refusals that store nothing, and the hand-over to the
handler an app installs."""

import threading
import time
from collections.abc import Callable

import httpx
from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session, sessionmaker

from models import TroubleCodeReport
from protocol import DeviceKey, sign_trouble_codes
from scoring_service.app import create_app
from scoring_service.devices import REPORT_WINDOW_NS, TroubleCodes, install_trouble_code_handler

PATH = "/v1/devices/trouble-codes"


def _stored(session_factory: sessionmaker[Session]) -> list[tuple[int, list[str]]]:
    with session_factory() as session:
        return [(r.sent_ns, r.codes) for r in session.scalars(select(TroubleCodeReport).order_by(TroubleCodeReport.id))]


def test_a_signed_report_is_stored_once_however_often_it_arrives(
    service_url: str, device: DeviceKey, session_factory: sessionmaker[Session]
) -> None:
    body = sign_trouble_codes(device, ["p0301", "P0420"], time.time_ns())
    answers: list[httpx.Response] = []
    start = threading.Barrier(6)

    def post() -> None:
        start.wait()
        answers.append(httpx.post(service_url + PATH, json=body, timeout=30))

    threads = [threading.Thread(target=post) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)

    assert [a.status_code for a in answers] == [200] * 6
    assert len({a.json()["report_id"] for a in answers}) == 1
    assert all(a.json()["jobs"] == [] for a in answers)  # no repair intake in the scoring service alone
    assert _stored(session_factory) == [(body["sent_ns"], ["P0301", "P0420"])]


def test_refusals_name_what_is_wrong_and_store_nothing(
    service_url: str,
    device: DeviceKey,
    new_device: Callable[[], DeviceKey],
    session_factory: sessionmaker[Session],
) -> None:
    now = time.time_ns()
    stranger = DeviceKey.generate()  # never registered
    other = new_device()
    tampered = {**sign_trouble_codes(device, ["P0301"], now), "codes": ["P0300"]}
    forged = {**sign_trouble_codes(other, ["P0301"], now), "device": device.address}
    cases = {
        "unknown device": (sign_trouble_codes(stranger, ["P0301"], now), 403, "device"),
        "codes changed after signing": (tampered, 401, "signature"),
        "signed by another device": (forged, 401, "signature"),
        "too old": (sign_trouble_codes(device, ["P0301"], now - REPORT_WINDOW_NS - 10**9), 422, "sent_ns"),
        "from the future": (sign_trouble_codes(device, ["P0301"], now + REPORT_WINDOW_NS + 10**9), 422, "sent_ns"),
    }
    for name, (body, status, field) in cases.items():
        answer = httpx.post(service_url + PATH, json=body, timeout=30)
        assert (answer.status_code, answer.json()["field"]) == (status, field), name
        assert answer.json()["detail"], name
    not_a_code = httpx.post(service_url + PATH, json=sign_trouble_codes(device, ["X9999"], now), timeout=30)
    assert not_a_code.status_code == 422 and "codes" in not_a_code.text
    assert _stored(session_factory) == []


def test_the_installed_handler_gets_the_stored_report_and_answers_the_device(
    db_engine: Engine, serve_app: Callable[[FastAPI], str], device: DeviceKey, session_factory: sessionmaker[Session]
) -> None:
    received: list[TroubleCodes] = []

    def handler(report: TroubleCodes, request: Request, session: Session) -> Response:
        received.append(report)
        stored = session.get(TroubleCodeReport, report.report_id)
        return JSONResponse({"seen": list(report.codes), "stored": stored is not None}, status_code=200)

    app = create_app(engine=db_engine)
    install_trouble_code_handler(app, handler)
    body = sign_trouble_codes(device, ["P0171"], time.time_ns())
    answer = httpx.post(serve_app(app) + PATH, json=body, timeout=30)
    assert answer.json() == {"seen": ["P0171"], "stored": True}
    (report,) = received
    assert (report.device.address, report.sent_ns, report.codes) == (device.address, body["sent_ns"], ("P0171",))
    assert _stored(session_factory) == [(body["sent_ns"], ["P0171"])]

"""Monthly statements over real HTTP: priced from the month's trips by the installed risk model,
hashed canonically, issued once per month, retried safely with an Idempotency-Key."""

import hashlib
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from api_world import LAST_MONTH, T0_NS, World, add_scored_trip

from models import session_scope
from protocol import DeviceKey, RecordType
from scoring_service.anchoring import commit_record
from scoring_service.products import load_product
from scoring_service.risk import load_model, monthly_premium


def _issue(world: World, actor: str, policy: str, period: str, key: str) -> tuple[int, dict[str, Any]]:
    response = world.call(
        actor,
        "POST",
        f"/v1/policies/{world.ids[policy]}/statements",
        json={"period": period},
        headers={"Idempotency-Key": key},
    )
    return response.status_code, response.json()


def test_statement_prices_the_month_from_its_trips(world: World, risk_model_file: Path) -> None:
    # driver A's second car, insured for last month only; the first car's trips are not its business
    vin = "WVWZZZ1JZ3W386529"
    vehicle = world.ok("driver_a", "POST", "/v1/vehicles", json={"vin": vin})
    key = DeviceKey.generate()
    device = world.ok(
        "driver_a", "POST", f"/v1/vehicles/{vehicle['id']}/devices", json={"public_key": key.public_key.hex()}
    )
    day_ns = 86_400 * 10**9
    factory = world.api.session_factory
    _, score_1 = add_scored_trip(factory, device_id=device["id"], start_ns=T0_NS, score=90, distance_m=12_000.4)
    _, score_2 = add_scored_trip(factory, device_id=device["id"], start_ns=T0_NS + day_ns, score=60, distance_m=30_500)
    add_scored_trip(factory, device_id=device["id"], start_ns=T0_NS + 40 * day_ns, score=10)  # next month
    period = f"{LAST_MONTH:%Y-%m}"
    first_of_next = date(LAST_MONTH.year + LAST_MONTH.month // 12, LAST_MONTH.month % 12 + 1, 1)
    policy = world.ok(
        "insurer_a",
        "POST",
        "/v1/policies",
        json={
            "product_id": world.ids["product_a"],
            "driver_email": world["driver_a"].username,
            "vin": vin,
            "period_start": LAST_MONTH.isoformat(),
            "period_end": first_of_next.isoformat(),
        },
    )
    world.ids["policy_a2"] = policy["id"]
    status, unaccepted = _issue(world, "insurer_a", "policy_a2", period, "a2-quoted")
    assert status == 409 and "quoted" in str(unaccepted["detail"])
    world.ok("driver_a", "POST", f"/v1/policies/{policy['id']}/accept")

    status, statement = _issue(world, "insurer_a", "policy_a2", period, "a2-first")
    assert status == 201, statement
    assert statement["period"] == period
    assert statement["trip_count"] == 2
    assert statement["distance_m"] == 12_000 + 30_500
    assert [s["score_id"] for s in statement["scores"]] == [score_1, score_2]
    assert statement["driver_score"] == 100  # no harsh events, speeding or night driving in these trips
    model = load_model(risk_model_file)
    assert statement["model_version"] == model.version and statement["model_sha256"] == model.sha256
    product = load_product("standard", 1)
    expected, _clamped = monthly_premium(product, Decimal(str(statement["risk_factor"])))
    assert statement["premium"] == expected
    assert product.pricing.floor <= expected <= product.pricing.cap
    assert statement["base_premium"] == product.pricing.base_premium
    assert statement["payment"] is None and "no chain" in str(statement["charge_error"])

    document = world.call("driver_a", "GET", f"/v1/statements/{statement['id']}/document")
    assert document.status_code == 200
    assert hashlib.sha256(document.content).hexdigest() == statement["statement_sha256"]
    assert document.json()["premium"] == statement["premium"]

    # the same key and body replays the answer; the same key with another body is refused
    assert _issue(world, "insurer_a", "policy_a2", period, "a2-first") == (201, statement)
    status, reused = _issue(world, "insurer_a", "policy_a2", f"{first_of_next:%Y-%m}", "a2-first")
    assert status == 422 and "Idempotency-Key" in str(reused["detail"])
    # a new key for a month already billed returns the stored statement, not a second one
    status, again = _issue(world, "insurer_a", "policy_a2", period, "a2-second")
    assert status == 200 and again["id"] == statement["id"] and again["premium"] == statement["premium"]
    listed = world.ok("driver_a", "GET", f"/v1/policies/{policy['id']}/statements")
    assert [s["id"] for s in listed] == [statement["id"]]

    # the month's driver score is committed for anchoring on its own, provable by its driver
    driver_proof = world.ok("driver_a", "GET", f"/v1/proofs/driver_score/{statement['id']}")
    assert driver_proof["record"]["score"] == statement["driver_score"] == 100
    assert driver_proof["record"]["driver_id"] == world.ids["driver_a"]
    assert driver_proof["record"]["trip_score_ids"] == [score_1, score_2]
    assert world.call("driver_b", "GET", f"/v1/proofs/driver_score/{statement['id']}").status_code == 404

    # a used score that the scoring pipeline has committed carries its (pending) proof
    with session_scope(factory) as session:
        record = {"type": "trip_score", "score_id": score_1, "score": 90}
        commit_record(session, record_type=RecordType.TRIP_SCORE, record_id=score_1, record=record)
    detail = world.ok("driver_a", "GET", f"/v1/statements/{statement['id']}")
    proofs = {s["score_id"]: s["proof"] for s in detail["scores"]}
    assert proofs[score_2] is None
    assert proofs[score_1]["record"] == record and proofs[score_1]["state"] == "pending"


def test_statement_refusals_say_what_is_wrong(world: World) -> None:
    status, body = _issue(world, "insurer_a", "policy_a", "2020-01", "early")
    assert status == 422 and "does not cover 2020-01" in str(body["detail"])
    status, body = _issue(world, "insurer_a", "policy_a", "2099-12", "future")
    assert status == 422 and "does not cover" in str(body["detail"])
    this_month = date.today().replace(day=1)
    status, body = _issue(world, "insurer_a", "policy_a", f"{this_month:%Y-%m}", "running")
    assert status == 422 and "has not ended" in str(body["detail"])
    status, body = _issue(world, "insurer_a", "policy_a", "2026-13", "bad")
    assert status == 422 and "period" in str(body["detail"])
    response = world.call(
        "insurer_a", "POST", f"/v1/policies/{world.ids['policy_a']}/statements", json={"period": f"{LAST_MONTH:%Y-%m}"}
    )
    assert response.status_code == 422 and "Idempotency-Key" in response.json()["detail"]

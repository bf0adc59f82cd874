"""The repair and premium endpoints over HTTP (uvicorn on loopback), with a real neo-go node:
a shop signs up, the car's signed trouble code opens a job that eight racing retries open once,
the shop bills it, the cleared code pays it; eight clients retrying one statement charge it once."""

import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from api_world import LAST_MONTH, PASSWORD, World
from money_world import NEOT, funded_accounts, make_gateway, seed_history
from neo3.wallet.account import Account

from insurer_api.payments import balance, deposit_account, install_payments
from insurer_api.payments._reconcile import reconcile
from insurer_api.repair import track_records
from insurer_api.repair._service import escrow_events
from models import Insurer, Payment, RepairJob
from protocol import canonical_json
from tests.chain_fixtures import DeployedChain

pytestmark = [pytest.mark.chain, pytest.mark.slow]


def _race(count: int, call: Callable[[], httpx.Response]) -> list[httpx.Response]:
    """`count` threads released together, each making the same call."""
    start = threading.Barrier(count)
    answers: list[httpx.Response] = []
    failures: list[BaseException] = []

    def run() -> None:
        try:
            start.wait()
            answers.append(call())
        except BaseException as exc:
            failures.append(exc)

    threads = [threading.Thread(target=run) for _ in range(count)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert failures == []
    return answers


def _report(world: World, codes: list[str]) -> dict[str, Any]:
    key = world.device_keys["a"]
    sent_ns = time.time_ns()
    body = {"codes": codes, "device": key.address, "sent_ns": sent_ns}
    return {**body, "signature": key.sign(canonical_json(body)).hex()}


@pytest.fixture
def chain_world(world: World, neot_chain: DeployedChain) -> tuple[World, Account, Account, str]:
    """`world` whose insurer A operates a funded account on chain; payments installed in the app."""
    insurer, driver = funded_accounts(neot_chain, 2)
    royalty = Account.create_new().address
    with world.api.session_factory() as session:
        row = session.get(Insurer, world.ids["insurer_a"])
        assert row is not None
        row.neo_address = insurer.address
        session.commit()
    install_payments(world.api.app, gateway=make_gateway(neot_chain, insurer), royalty_address=royalty)
    return world, insurer, driver, royalty


def test_trouble_code_to_payout_over_http(
    chain_world: tuple[World, Account, Account, str], neot_chain: DeployedChain
) -> None:
    world, insurer, _driver, royalty = chain_world
    senior_key = Account.create_new()
    shop = world.ok(
        None,
        "POST",
        "/v1/repair-shops",
        json={
            "name": "Senior Motors",
            "neo_address": senior_key.address,
            "services": ["dtc:P03*"],
            "capacity": 4,
            "username": "senior@shops.test",
            "password": PASSWORD,
        },
    )
    world.sign_in("senior", world["shop_a"].role, "senior@shops.test", shop["id"])
    world.api.app.state.escrow_gateway.add_signer(insurer)
    client = neot_chain.client
    _run(seed_history(client, insurer, senior_key.address, ok=24, failed=1))
    gateway = world.api.app.state.escrow_gateway
    for _ in range(100):
        if track_records(escrow_events(_run(gateway.escrow_events()))).get(senior_key.address):
            break
        time.sleep(0.1)
    record = world.ok("driver_a", "GET", f"/v1/repair-shops/{shop['id']}/record")
    assert (record["jobs"], record["successes"], record["senior"]) == (25, 24, True)

    report = _report(world, ["P0301"])
    answers = _race(
        8,
        lambda: httpx.post(
            f"{world.api.base_url}/v1/devices/trouble-codes",
            json=report,
            headers={"Idempotency-Key": "car-a-report-1"},
            timeout=60,
        ),
    )
    assert {a.status_code for a in answers} == {200}
    assert len({a.text for a in answers}) == 1
    (job,) = answers[0].json()["jobs"]
    assert (job["state"], job["shop_id"], job["dtc"]) == ("locked", shop["id"], "P0301")
    with world.api.session_factory() as session:
        assert session.query(RepairJob).count() == 1
        assert session.query(Payment).filter(Payment.kind == "job_lock").count() == 1

    reused = httpx.post(
        f"{world.api.base_url}/v1/devices/trouble-codes",
        json=_report(world, ["P0302"]),
        headers={"Idempotency-Key": "car-a-report-1"},
        timeout=60,
    )
    assert reused.status_code == 422 and "different request" in reused.json()["detail"]
    forged = {**_report(world, ["P0420"]), "signature": "00" * 64}
    assert (
        httpx.post(
            f"{world.api.base_url}/v1/devices/trouble-codes",
            json=forged,
            headers={"Idempotency-Key": "forged"},
            timeout=60,
        ).status_code
        == 401
    )

    explanation = world.ok("insurer_a", "GET", f"/v1/repair-jobs/{job['id']}/explanation")
    assert explanation["reproduced"] and explanation["winner"] == senior_key.address
    assert "wins with smoothed success rate 25/27" in explanation["reason"]

    world.ok(
        "senior",
        "POST",
        f"/v1/repair-jobs/{job['id']}/invoice",
        json={"amount": 300 * NEOT},
        headers={"Idempotency-Key": "invoice-1"},
    )
    paid = httpx.post(
        f"{world.api.base_url}/v1/devices/trouble-codes",
        json=_report(world, []),
        headers={"Idempotency-Key": "car-a-report-2"},
        timeout=60,
    ).json()["jobs"][0]
    assert (paid["state"], paid["shop_amount"], paid["royalty_amount"]) == ("paid", 285 * NEOT, 15 * NEOT)
    assert _run(gateway.balance_of(senior_key.address)) == 24 * NEOT + 285 * NEOT
    assert _run(gateway.balance_of(royalty)) == 15 * NEOT
    assert world.call("shop_b", "GET", f"/v1/repair-jobs/{job['id']}").status_code == 404


def test_racing_retries_of_one_statement_charge_once(
    chain_world: tuple[World, Account, Account, str], neot_chain: DeployedChain
) -> None:
    world, insurer, driver, _royalty = chain_world
    policy_id = world.ids["policy_a"]
    deposit = world.ok("driver_a", "GET", f"/v1/policies/{policy_id}/deposit")
    assert deposit["operator"] == insurer.address
    from datetime import UTC, datetime

    receipt = _run(
        neot_chain.client.deposit_premium(
            driver,
            deposit["chain_policy_id"],
            operator=insurer.address,
            amount=1000 * NEOT,
            cap_per_period=1000 * NEOT,
            end=datetime(2030, 1, 1, tzinfo=UTC),
        )
    )
    booked = world.ok(
        "driver_a",
        "POST",
        f"/v1/policies/{policy_id}/deposits",
        json={"tx_hash": receipt.tx_hash},
        headers={"Idempotency-Key": "deposit-1"},
    )
    assert (booked["booked"], booked["ledger_balance"]) == (1000 * NEOT, 1000 * NEOT)

    url = f"{world.api.base_url}/v1/policies/{policy_id}/statements"
    headers = {**world["insurer_a"].headers, "Idempotency-Key": "charge-last-month"}
    answers = _race(8, lambda: httpx.post(url, json={"period": f"{LAST_MONTH:%Y-%m}"}, headers=headers, timeout=60))
    assert {a.status_code for a in answers} == {200}
    assert len({a.text for a in answers}) == 1
    statement = answers[0].json()
    assert statement["payment"]["state"] == "confirmed"
    premium = statement["premium"]
    chain_id = deposit["chain_policy_id"].encode()
    assert _run(world.api.app.state.escrow_gateway.deposit_balance(chain_id)) == 1000 * NEOT - premium
    with world.api.session_factory() as session:
        assert session.query(Payment).filter(Payment.kind == "premium_charge").count() == 1
        assert balance(session, deposit_account(policy_id)) == 1000 * NEOT - premium
        assert _run(reconcile(session, world.api.app.state.escrow_gateway)).differences == []


def _run[T](coro: Any) -> T:
    import asyncio

    result: T = asyncio.run(coro)
    return result

"""The whole premium flow over HTTP against a real neo-go node, on both databases: a policy, last
month's scored trips, the driver's deposit in escrow, then `POST /v1/policies/{id}/statements`
charges the statement on chain, and ledger, escrow and wallets agree."""

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from api_world import COVER_END, COVER_START, LAST_MONTH, T0_NS, LiveServer, add_scored_trip, api_settings
from money_world import NEOT, MoneyWorld, build_money_world

from insurer_api.app import create_app
from insurer_api.auth import create_user
from insurer_api.payments import PaymentState, balance, deposit_account, wallet_account
from insurer_api.payments._premiums import charge_statement, policy_chain_id, record_deposit
from insurer_api.payments._reconcile import reconcile
from models import Device, Policy, PolicyStatus, Role, Statement, Vehicle, make_engine, make_session_factory
from protocol import DeviceKey
from tests.chain_fixtures import DeployedChain

pytestmark = [pytest.mark.chain]

PASSWORD = "insurer-password"


@dataclass
class Charging:
    money: MoneyWorld
    client: httpx.Client
    policy_id: int
    headers: dict[str, str]


@pytest.fixture
def charging(neot_chain: DeployedChain, migrated_url: str, risk_model_file: Path, tmp_path: Path) -> Iterator[Charging]:
    engine = make_engine(migrated_url)
    factory = make_session_factory(engine)
    money = build_money_world(neot_chain, factory)
    with factory() as session:
        base = session.get(Policy, money.policy_id)
        assert base is not None
        vehicle = Vehicle(driver_id=base.driver_id, vin="WVWZZZ1JZ3W386527")
        session.add(vehicle)
        session.flush()
        key = DeviceKey.generate()
        device = Device(vehicle_id=vehicle.id, neo_address=key.address, public_key=key.public_key)
        policy = Policy(
            insurer_id=money.insurer_id,
            driver_id=base.driver_id,
            vehicle_id=vehicle.id,
            product_id="standard",
            product_version=1,
            period_start=COVER_START,
            period_end=COVER_END,
            base_premium=50 * NEOT,
            status=PolicyStatus.ACTIVE,
        )
        session.add_all([device, policy])
        create_user(
            session=session,
            username="ops@charging.test",
            password=PASSWORD,
            role=Role.INSURER,
            insurer_id=money.insurer_id,
        )
        session.commit()
        policy_id, device_id = policy.id, device.id
    add_scored_trip(factory, device_id=device_id, start_ns=T0_NS, score=85, distance_m=21_000)
    models_dir = tmp_path / "data" / "models"
    models_dir.mkdir(parents=True)
    shutil.copy(risk_model_file, models_dir / risk_model_file.name)
    app = create_app(
        api_settings(migrated_url, tmp_path / "data"),
        engine=engine,
        statement_charger=lambda session, statement: charge_statement(session, money.gateway, statement),
    )
    with LiveServer(app) as server, httpx.Client(base_url=server.base_url, timeout=60) as client:
        token = client.post("/v1/auth/token", data={"username": "ops@charging.test", "password": PASSWORD})
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        yield Charging(money=money, client=client, policy_id=policy_id, headers=headers)
    engine.dispose()


def _deposit(charging: Charging, amount: int) -> None:
    money = charging.money
    chain_id = policy_chain_id(insurer_address=money.insurer.address, policy_id=charging.policy_id)

    async def go() -> None:
        receipt = await money.client.deposit_premium(
            money.driver,
            chain_id,
            operator=money.insurer.address,
            amount=amount,
            cap_per_period=200 * NEOT,
            end=datetime(COVER_END.year, COVER_END.month, COVER_END.day, tzinfo=UTC),
        )
        with money.factory() as session:
            policy = session.get(Policy, charging.policy_id)
            assert policy is not None
            assert await record_deposit(session, money.gateway, policy=policy, tx_hash=receipt.tx_hash) == amount

    money.run(go())


def test_issuing_a_statement_charges_the_deposit_on_chain(charging: Charging) -> None:
    money = charging.money
    _deposit(charging, 300 * NEOT)
    insurer_before: int = money.run(money.gateway.balance_of(money.insurer.address))
    url = f"/v1/policies/{charging.policy_id}/statements"
    response = charging.client.post(
        url, json={"period": f"{LAST_MONTH:%Y-%m}"}, headers={**charging.headers, "Idempotency-Key": "charge-1"}
    )
    assert response.status_code == 201, response.text
    statement = response.json()
    premium = statement["premium"]
    assert statement["trip_count"] == 1 and 25 * NEOT <= premium <= 150 * NEOT
    assert statement["charge_error"] is None
    assert statement["payment"]["state"] == PaymentState.CONFIRMED.value
    assert statement["payment"]["tx_hash"].startswith("0x")

    # billed once: a new key for the same month returns the same statement and the same payment
    again = charging.client.post(
        url, json={"period": f"{LAST_MONTH:%Y-%m}"}, headers={**charging.headers, "Idempotency-Key": "charge-2"}
    )
    assert again.status_code == 200
    assert again.json()["payment"]["id"] == statement["payment"]["id"]

    chain_id = policy_chain_id(insurer_address=money.insurer.address, policy_id=charging.policy_id).encode()
    assert money.run(money.gateway.deposit_balance(chain_id)) == 300 * NEOT - premium
    assert money.run(money.gateway.balance_of(money.insurer.address)) == insurer_before + premium
    with money.factory() as session:
        stored = session.get(Statement, statement["id"])
        assert stored is not None and stored.payment_id == statement["payment"]["id"]
        assert balance(session, deposit_account(charging.policy_id)) == 300 * NEOT - premium
        assert balance(session, wallet_account(money.insurer.address)) == premium
        assert money.run(reconcile(session, money.gateway)).differences == []


def test_a_refused_charge_leaves_the_statement_issued_and_a_retry_charges_it(charging: Charging) -> None:
    money = charging.money
    url = f"/v1/policies/{charging.policy_id}/statements"
    body = {"period": f"{LAST_MONTH:%Y-%m}"}
    first = charging.client.post(url, json=body, headers={**charging.headers, "Idempotency-Key": "no-deposit"})
    assert first.status_code == 201, first.text
    assert first.json()["payment"] is None and "charge failed" in first.json()["charge_error"]
    _deposit(charging, 200 * NEOT)
    retry = charging.client.post(url, json=body, headers={**charging.headers, "Idempotency-Key": "after-deposit"})
    assert retry.status_code == 200 and retry.json()["id"] == first.json()["id"]
    assert retry.json()["payment"]["state"] == PaymentState.CONFIRMED.value
    chain_id = policy_chain_id(insurer_address=money.insurer.address, policy_id=charging.policy_id).encode()
    assert money.run(money.gateway.deposit_balance(chain_id)) == 200 * NEOT - first.json()["premium"]

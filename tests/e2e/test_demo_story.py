"""`neot demo` end to end: what its summary claims can be checked on the node with plain JSON-RPC."""

import base64
import json

import pytest

from chain.node import find_free_port
from tests.e2e.conftest import DemoRun

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("demo")]


def _log(run: DemoRun, tx: str) -> dict:
    log = run.rpc("getapplicationlog", tx)
    assert [e["vmstate"] for e in log["executions"]] == ["HALT"], log
    return log


def _events(log: dict) -> list[str]:
    return [n["eventname"] for e in log["executions"] for n in e["notifications"]]


def test_every_driver_is_scored_billed_and_charged_on_chain(demo_run: DemoRun) -> None:
    drivers = {d["style"]: d for d in demo_run.summary["drivers"]}
    assert set(drivers) == {"calm", "average", "aggressive"}
    for driver in drivers.values():
        assert driver["trips"] > 0 and driver["km"] > 0
        assert driver["charge_tx"], driver
        assert "PremiumCharged" in _events(_log(demo_run, driver["charge_tx"]))
    assert drivers["calm"]["score"] > drivers["aggressive"]["score"]
    assert drivers["aggressive"]["premium"] > drivers["calm"]["premium"]
    assert drivers["aggressive"]["premium"] >= drivers["average"]["premium"]


def test_the_repair_is_paid_with_the_senior_split(demo_run: DemoRun) -> None:
    [job] = demo_run.summary["shops"]
    assert job["dtc"] == "P0301"
    assert job["shop"] == "Kallio Motor Works"  # the senior shop wins Negotiation
    assert job["shop_amount"] == job["invoice"] * 95 // 100
    assert job["royalty_amount"] == job["invoice"] - job["shop_amount"]
    assert "JobReleased" in _events(_log(demo_run, job["payout_tx"]))
    token = demo_run.summary["contracts"]["neot_token"]
    balances = demo_run.rpc("getnep17balances", job["address"])["balance"]
    held = {b["assethash"]: int(b["amount"]) for b in balances}
    assert held[token] >= job["shop_amount"]


def test_anchored_roots_are_on_chain_and_the_proof_verifies(demo_run: DemoRun) -> None:
    anchor = demo_run.summary["contracts"]["score_anchor"]
    confirmed = [e for e in demo_run.summary["epochs"] if e["state"] == "confirmed"]
    assert confirmed
    for epoch in confirmed:
        assert "Anchored" in _events(_log(demo_run, epoch["tx_hash"]))
        result = demo_run.rpc("invokefunction", anchor, "getRoot", [{"type": "Integer", "value": str(epoch["epoch"])}])
        assert result["state"] == "HALT"
        assert base64.b64decode(result["stack"][0]["value"]).hex() == epoch["root"]
    assert demo_run.summary["proof_verified"] is True
    verdict = demo_run.neot("verify", demo_run.summary["proof_file"], "--rpc", demo_run.summary["rpc_url"], "--json")
    assert verdict.returncode == 0, verdict.stdout + verdict.stderr
    proof = json.loads((demo_run.data_dir / "proof.json").read_text())
    assert proof["anchor"]["network_magic"] == demo_run.summary["network_magic"]


def test_a_second_run_reuses_the_chain_and_the_story(demo_run: DemoRun) -> None:
    demo_run.neot("chain", "down")
    try:
        again = demo_run.neot("demo", "--no-serve", "--json", "--port", str(find_free_port()))
        assert again.returncode == 0, again.stderr[-2000:]
        summary = json.loads(again.stdout)
        assert summary["contracts"] == demo_run.summary["contracts"]
        assert [d["charge_tx"] for d in summary["drivers"]] == [d["charge_tx"] for d in demo_run.summary["drivers"]]
        assert "already deployed, reused" in again.stderr
        assert "the story already ran" in again.stderr
    finally:
        assert demo_run.neot("chain", "up").returncode == 0

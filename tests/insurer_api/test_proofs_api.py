"""`GET /v1/proofs/{record_type}/{record_id}` over HTTP: authorised like the record, pending until
anchored, then a document whose path leads to the epoch root."""

from datetime import UTC, datetime, timedelta

import jsonschema
from api_world import World, add_scored_trip
from sqlalchemy import select

from insurer_api.proofs.routes import PROOF_SCHEMA
from models import Commitment, RepairJob, session_scope
from protocol import Proof, RecordType, verify_inclusion
from scoring_service.anchoring import EpochPolicy, close_due_epoch, commit_record


def _commit_world_records(world: World) -> int:
    """Trip scores committed as the scoring pipeline does; a repair payout. (Issuing statement A
    committed its premium statement and, when the month had trips, its driver score.)"""
    with session_scope(world.api.session_factory) as session:
        for side in ("a", "b"):
            score_id = world.ids[f"score_{side}"]
            record = {"type": "trip_score", "trip_id": world.ids[f"trip_{side}"], "score": 80}
            commit_record(session, record_type=RecordType.TRIP_SCORE, record_id=score_id, record=record)
        committed = select(Commitment.id).where(
            Commitment.record_type == RecordType.DRIVER_SCORE, Commitment.record_id == world.ids["statement_a"]
        )
        if session.scalar(committed) is None:
            record = {"type": "driver_score", "driver_id": world.ids["driver_a"], "score": 85, "period": "2026-10"}
            commit_record(session, record_type=RecordType.DRIVER_SCORE, record_id=world.ids["statement_a"],
                          record=record)  # fmt: skip
        job = RepairJob(
            policy_id=world.ids["policy_a"],
            shop_id=world.ids["shop_a"],
            service="brakes",
            authorised_amount=500_00000000,
            chain_job_id="proof-test-job",
            opened_by="claim",
        )
        session.add(job)
        session.flush()
        record = {"type": "repair_payout", "job_id": job.id, "shop_amount": 380_00000000}
        commit_record(session, record_type=RecordType.REPAIR_PAYOUT, record_id=job.id, record=record)
        return job.id


def test_proofs_are_served_to_whoever_may_read_the_record_and_bad_requests_are_4xx(world: World) -> None:
    job_id = _commit_world_records(world)
    paths = {
        "trip": f"/v1/proofs/trip_score/{world.ids['score_a']}",
        "driver": f"/v1/proofs/driver_score/{world.ids['statement_a']}",
        "statement": f"/v1/proofs/premium_statement/{world.ids['statement_a']}",
        "payout": f"/v1/proofs/repair_payout/{job_id}",
    }
    allowed = {
        "trip": {"admin", "insurer_a", "driver_a"},
        "driver": {"admin", "insurer_a", "driver_a"},
        "statement": {"admin", "insurer_a", "driver_a"},
        "payout": {"admin", "insurer_a", "driver_a", "shop_a"},
    }
    for name, path in paths.items():
        for actor in ("admin", "insurer_a", "insurer_b", "driver_a", "driver_b", "shop_a", "shop_b"):
            response = world.call(actor, "GET", path)
            expected = 200 if actor in allowed[name] else 404
            assert response.status_code == expected, (name, actor, response.text)
        doc = world.ok("admin", "GET", path)
        assert doc["anchor"] is None and doc["state"] == "pending" and doc["version"] == 1
        jsonschema.validate(doc, PROOF_SCHEMA)  # what the OpenAPI document promises
    assert world.call(None, "GET", paths["trip"]).status_code == 401
    unknown = world.call("admin", "GET", "/v1/proofs/weather/1")
    assert unknown.status_code == 422
    _, score_id = add_scored_trip(world.api.session_factory, device_id=world.ids["device_a"], start_ns=1, score=70)
    uncommitted = world.call("admin", "GET", f"/v1/proofs/trip_score/{score_id}")  # stored, not committed
    assert uncommitted.status_code == 404 and "no commitment yet" in uncommitted.text
    assert world.call("admin", "GET", "/v1/proofs/trip_score/0").status_code == 422


def test_a_closed_epoch_gives_a_path_to_its_root(world: World) -> None:
    _commit_world_records(world)
    with session_scope(world.api.session_factory) as session:
        later = datetime.now(UTC) + timedelta(days=1)
        assert close_due_epoch(session, policy=EpochPolicy(), now=later) is not None
    doc = world.ok("driver_a", "GET", f"/v1/proofs/trip_score/{world.ids['score_a']}")
    jsonschema.validate(doc, PROOF_SCHEMA)
    inclusion = verify_inclusion(Proof.from_json(doc))
    assert inclusion.epoch == 0 and inclusion.tree_size == doc["tree_size"] >= 5
    assert doc["record"] == {"type": "trip_score", "trip_id": world.ids["trip_a"], "score": 80}

"""Object-level authorisation: every object endpoint by every role, strangers included.

Each `Case` names an endpoint, the objects of side A it touches, and what each actor must get:
the owner's side sees it (2xx, or a 409 that proves it got past authorisation), the other
insurer/driver gets 404 (it must not learn the object exists), a role that never uses the
endpoint gets 403, and nobody signed in gets 401. `None` skips an actor whose call would
change the world for the others (a successful write). Add rows here for new endpoints; the
coverage test fails for any object endpoint of the OpenAPI document without a row.
"""

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from api_world import COVER_END, COVER_START, LAST_MONTH, Api, World

from protocol import DeviceKey

ACTORS = ("anon", "admin", "insurer_a", "insurer_b", "driver_a", "driver_b", "shop_a", "shop_b")

type Expect = Mapping[str, int | None]


def expect(default: int | None = None, **by_actor: int | None) -> dict[str, int | None]:
    """Expected status for every actor: `default` unless named."""
    table: dict[str, int | None] = dict.fromkeys(ACTORS, default)
    table["anon"] = 401
    table.update(by_actor)
    return table


# Side A's objects: its own insurer and driver (and admin) see them, side B's do not, shops may not ask.
A_SIDE = expect(200, insurer_b=404, driver_b=404, shop_a=403, shop_b=403)
# Endpoints only one role may call at all.
ADMIN_ONLY = expect(403, admin=None)
INSURER_ONLY = expect(403, insurer_a=None, insurer_b=None)
DRIVER_ONLY = expect(403, driver_a=None, driver_b=None)


@dataclass(frozen=True)
class Case:
    method: str
    path: str  # `{vehicle_a}`-style placeholders name ids in `world.ids`
    expected: Expect
    body: Callable[[World], Any] | None = None
    form: Callable[[World], Any] | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    note: str = field(default="")


def _new_device(_world: World) -> dict[str, str]:
    return {"public_key": DeviceKey.generate().public_key.hex()}


def _policy_for_a(world: World) -> dict[str, Any]:
    return {
        "product_id": world.ids["product_a"],
        "driver_email": world["driver_a"].username,
        "vin": "WVWZZZ1JZ3W386521",
        "period_start": COVER_START.isoformat(),
        "period_end": COVER_END.isoformat(),
    }


CASES: list[Case] = [
    Case("GET", "/v1/insurers/{insurer_a}", A_SIDE),
    Case("GET", "/v1/drivers/{driver_a}", A_SIDE),
    Case("GET", "/v1/vehicles/{vehicle_a}", A_SIDE),
    Case("GET", "/v1/vehicles/{vehicle_a}/devices", A_SIDE),
    Case(
        "POST",
        "/v1/vehicles/{vehicle_a}/devices",
        expect(403, driver_a=None, driver_b=404),
        body=_new_device,
        note="only the vehicle's own driver may bind a device",
    ),
    Case("GET", "/v1/devices/{device_a}", A_SIDE),
    Case("GET", "/v1/devices/{device_a}/status-reports", A_SIDE),
    Case(
        "POST",
        "/v1/devices/{device_a}/configure",
        expect(403, admin=202, insurer_a=202, insurer_b=404),
        body=lambda _w: {"sample_rate_hz": 5, "pids": ["SPEED"], "upload_interval_s": 60},
        note="Signals go to a device from its insurer or an admin, never from its driver",
    ),
    Case("POST", "/v1/devices/{device_a}/status-query", expect(403, admin=202, insurer_a=202, insurer_b=404)),
    Case("GET", "/v1/products/{product_a}", expect(200, insurer_b=404, shop_a=403, shop_b=403)),
    Case("GET", "/v1/policies/{policy_a}", A_SIDE),
    Case("POST", "/v1/policies/{policy_a}/accept", expect(403, driver_a=409, driver_b=404)),
    Case("POST", "/v1/policies/{policy_a}/cancel", expect(403, insurer_a=None, insurer_b=404)),
    Case(
        "POST",
        "/v1/policies",
        expect(403, insurer_a=409, insurer_b=404),
        body=_policy_for_a,
        note="insurer B may not sell insurer A's product; A's own quote overlaps the live policy",
    ),
    Case("GET", "/v1/trips/{trip_a}", A_SIDE),
    Case("GET", "/v1/trips/{trip_a}/scores", A_SIDE),
    Case("GET", "/v1/trips/{trip_a}/track", A_SIDE),
    Case("GET", "/v1/scores/{score_a}", A_SIDE),
    Case("GET", "/v1/policies/{policy_a}/statements", A_SIDE),
    Case(
        "POST",
        "/v1/policies/{policy_a}/statements",
        expect(403, insurer_a=None, insurer_b=404),
        body=lambda _world: {"period": f"{LAST_MONTH:%Y-%m}"},
        headers={"Idempotency-Key": "matrix"},
    ),
    Case("GET", "/v1/statements/{statement_a}", A_SIDE),
    Case("GET", "/v1/statements/{statement_a}/document", A_SIDE),
    Case(
        "DELETE",
        "/v1/auth/api-keys/{api_key_a}",
        expect(404, driver_a=None),
        note="only the key's owner may revoke it; for anyone else it does not exist",
    ),
    Case(
        "POST",
        "/v1/users/{driver_b}/deactivate",
        ADMIN_ONLY,
        note="only an admin disables an account (the admin's own call would disable a user of the world)",
    ),
    Case(
        "GET",
        "/v1/proofs/{premium_statement}/{statement_a}",
        expect(200, insurer_b=404, driver_b=404, shop_a=404, shop_b=404),
        note="a proof is authorised like the record it proves (statements are committed when issued)",
    ),
    # Payments and repair. A 503 proves the caller got past authorisation: this world has no chain.
    Case("GET", "/v1/policies/{policy_a}/deposit", A_SIDE),
    Case(
        "POST",
        "/v1/policies/{policy_a}/deposits",
        expect(403, driver_a=503, driver_b=404),
        body=lambda _w: {"tx_hash": "0x" + "00" * 32},
        headers={"Idempotency-Key": "matrix-deposit"},
    ),
    Case("GET", "/v1/repair-shops/{shop_a}", expect(200), note="shops' offers are public input to Negotiation"),
    Case(
        "PATCH",
        "/v1/repair-shops/{shop_a}",
        expect(403, admin=200, shop_a=200, shop_b=404),
        body=lambda _w: {"capacity": 2},
    ),
    Case("GET", "/v1/repair-shops/{shop_a}/record", expect(503), note="public, read from the chain"),
    Case("GET", "/v1/repair-jobs/{job_a}", expect(200, insurer_b=404, driver_b=404, shop_b=404)),
    Case("GET", "/v1/repair-jobs/{job_a}/explanation", expect(200, insurer_b=404, driver_b=404, shop_b=404)),
    Case(
        "POST",
        "/v1/repair-jobs/{job_a}/invoice",
        expect(403, shop_a=None, shop_b=404),
        body=lambda _w: {"amount": 100},
        headers={"Idempotency-Key": "matrix-invoice"},
    ),
    Case(
        "POST",
        "/v1/repair-jobs/{job_a}/approve",
        expect(403, insurer_a=503, insurer_b=404),
        headers={"Idempotency-Key": "matrix-approve"},
    ),
    Case(
        "POST",
        "/v1/repair-jobs/{job_a}/fail",
        expect(403, insurer_a=503, insurer_b=404),
        body=lambda _w: {"reason": "disputed"},
        headers={"Idempotency-Key": "matrix-fail"},
    ),
]

# Who may call the collection endpoints, and which of the named objects each actor must see.
OWN_SIDE = {"insurer_a": {"a"}, "insurer_b": {"b"}, "driver_a": {"a"}, "driver_b": {"b"}}
CATALOGUE = {"insurer_a": {"a"}, "insurer_b": {"b"}, "driver_a": {"a", "b"}, "driver_b": {"a", "b"}}
LISTS: list[tuple[str, str, Mapping[str, set[str]]]] = [
    ("/v1/insurers", "insurer", OWN_SIDE),
    ("/v1/drivers", "driver", OWN_SIDE),
    ("/v1/vehicles", "vehicle", OWN_SIDE),
    ("/v1/devices", "device", OWN_SIDE),
    ("/v1/products", "product", CATALOGUE),
    ("/v1/policies", "policy", OWN_SIDE),
    ("/v1/trips", "trip", OWN_SIDE),
    ("/v1/statements", "statement", OWN_SIDE),
]


def _seed_api_key(world: World) -> None:
    created = world.ok("driver_a", "POST", "/v1/auth/api-keys", json={"name": "matrix"})
    world.ids["api_key_a"] = created["id"]


# Path segments that are names rather than ids, so rows keep the `{…}` shape of the OpenAPI paths.
PATH_NAMES = {"premium_statement": "premium_statement"}


def _call(world: World, case: Case, actor: str) -> int:
    path = case.path.format(**world.ids, **PATH_NAMES)
    kwargs: dict[str, Any] = {}
    if case.body is not None:
        kwargs["json"] = case.body(world)
    if case.form is not None:
        kwargs["data"] = case.form(world)
    if case.headers:
        kwargs["headers"] = dict(case.headers)
    response = world.call(None if actor == "anon" else actor, case.method, path, **kwargs)
    if response.status_code == 404:
        # a stranger learns nothing but "not found"
        assert set(response.json()) == {"detail"}, response.text
    return response.status_code


def _object_mismatches(world: World) -> list[str]:
    wrong = []
    for case in CASES:
        for actor in ACTORS:
            wanted = case.expected[actor]
            if wanted is None:
                continue
            got = _call(world, case, actor)
            if got != wanted:
                wrong.append(f"{case.method} {case.path} as {actor}: {got}, expected {wanted}")
    return wrong


def _collection_mismatches(world: World) -> list[str]:
    wrong = []
    for path, kind, visible in LISTS:
        for actor in ACTORS:
            response = world.call(None if actor == "anon" else actor, "GET", path)
            if actor == "anon":
                expected_status = 401
            elif actor.startswith("shop"):
                expected_status = 403
            else:
                expected_status = 200
            if response.status_code != expected_status:
                wrong.append(f"GET {path} as {actor}: {response.status_code}, expected {expected_status}")
                continue
            if expected_status != 200:
                continue
            got = {row["id"] for row in response.json()}
            sides = {"a", "b"} if actor == "admin" else visible.get(actor, set())
            named = {world.ids[f"{kind}_{side}"] for side in ("a", "b")}
            want = {world.ids[f"{kind}_{side}"] for side in sides}
            if got & named != want:
                wrong.append(f"GET {path} as {actor}: sees {sorted(got & named)}, expected {sorted(want)}")
    return wrong


def _seed_repair_jobs(world: World) -> None:
    """A locked job per side at that side's shop, negotiated as the repair service would have."""
    from insurer_api.repair import negotiate
    from insurer_api.repair._service import candidates, negotiation_snapshot
    from models import JobState, RepairJob

    with world.api.session_factory() as session:
        for side in ("a", "b"):
            result = negotiate(
                service="dtc:P0301",
                authorised_amount=100,
                insurer_balance=100,
                candidates=candidates(session),
                records={},
            )
            job = RepairJob(
                policy_id=world.ids[f"policy_{side}"],
                shop_id=world.ids[f"shop_{side}"],
                service="dtc:P0301",
                dtc="P0301",
                state=JobState.LOCKED,
                authorised_amount=100,
                chain_job_id=f"matrix{side}",
                opened_by="dtc",
                negotiation=negotiation_snapshot(result, chain_height=1),
            )
            session.add(job)
            session.flush()
            world.ids[f"job_{side}"] = job.id
        session.commit()


def test_repair_jobs_list_shows_each_party_its_own(world: World) -> None:
    _seed_repair_jobs(world)
    own = {
        "admin": {"a", "b"},
        "insurer_a": {"a"},
        "insurer_b": {"b"},
        "driver_a": {"a"},
        "driver_b": {"b"},
        "shop_a": {"a"},
        "shop_b": {"b"},
    }
    for actor, sides in own.items():
        got = {row["id"] for row in world.ok(actor, "GET", "/v1/repair-jobs")}
        assert got == {world.ids[f"job_{side}"] for side in sides}, actor
    assert world.call(None, "GET", "/v1/repair-jobs").status_code == 401


def test_every_object_endpoint_and_collection_against_every_role(world: World) -> None:
    """One world, every row: all mismatches are reported together."""
    _seed_api_key(world)
    _seed_repair_jobs(world)
    assert _collection_mismatches(world) + _object_mismatches(world) == []


def test_every_object_endpoint_has_a_row(api: Api) -> None:
    """A new `/{id}` endpoint without a row here fails: nobody forgets to decide who may see it."""
    schema = api.client.get("/openapi.json").json()
    covered = {(case.method, _template(case.path)) for case in CASES}
    missing = []
    for path, operations in schema["paths"].items():
        if "{" not in path:
            continue
        for method in operations:
            if (method.upper(), _template(path)) not in covered:
                missing.append(f"{method.upper()} {path}")
    assert missing == []


def _template(path: str) -> str:
    """`/v1/policies/{policy_a}/statements` and `/v1/policies/{policy_id}/statements` alike."""
    return re.sub(r"\{[^}]*\}", "{}", path)

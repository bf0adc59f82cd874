"""Property-based fuzzing of the whole OpenAPI document (insurer, payments, repair and the mounted
scoring routes) through the live server: valid and invalid inputs, as every role and as nobody,
with random ids and with the ids of real objects. No request may end in a 5xx.

Bounded: a few examples per operation, mode and id source, so the whole run takes seconds.
"""

import re
from contextlib import suppress
from typing import Any

import schemathesis
from api_world import World
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.core.result import Ok

EXAMPLES = 3
ACTORS = (None, "admin", "insurer_a", "driver_a", "shop_a")


def _real_ids(world: World, operation: Any) -> dict[str, int]:
    """`{policy_id}` → side A's policy, and so on, for the path parameters this operation has."""
    pinned = {}
    for name in re.findall(r"\{([^}]+)\}", operation.path):
        kind = name.removesuffix("_id")
        for candidate in (f"{kind}_a", f"{kind.replace('job', 'repair_job')}_a", f"{kind}_b"):
            if candidate in world.ids:
                pinned[name] = world.ids[candidate]
                break
    return pinned


def _fuzz(world: World, strategy: Any, label: str, failures: list[str]) -> None:
    base_url = world.api.base_url

    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy, actor=st.sampled_from(ACTORS))
    def call(case: Any, actor: str | None) -> None:
        headers = {} if actor is None else dict(world[actor].headers)
        response = case.call(base_url=base_url, headers=headers, timeout=30)
        if response.status_code >= 500 and not _declared_unavailable(response):
            where = f"{case.method} {case.formatted_path} as {actor} ({label})"
            failures.append(f"{where}: {response.status_code} {response.text[:200]}")

    with suppress(Unsatisfiable):  # e.g. no invalid input exists for an operation without parameters
        call()


def _declared_unavailable(response: Any) -> bool:
    """The one 5xx allowed: a 503 saying this deployment has no chain (the test server has none)."""
    return response.status_code == 503 and "no NEO chain is configured" in response.text


def test_no_input_makes_the_api_fail(world: World) -> None:
    schema = schemathesis.openapi.from_url(f"{world.api.base_url}/openapi.json")
    failures: list[str] = []
    operations = 0
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), f"the OpenAPI document is invalid: {result.err()}"
        operation = result.ok()
        operations += 1
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            for ids in ("random ids", "real ids"):
                pinned = _real_ids(world, operation) if ids == "real ids" else {}
                if ids == "real ids" and not pinned:
                    continue
                strategy = operation.as_strategy(generation_mode=mode, path_parameters=pinned or None)
                _fuzz(world, strategy, f"{mode.value}, {ids}", failures)
    assert operations >= 30, f"only {operations} operations in the schema"
    assert failures == []

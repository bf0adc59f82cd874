"""The world every other insurer-API test builds on comes up through the real HTTP API."""

from api_world import World


def test_world_builds_over_http(world: World) -> None:
    me = world.ok("driver_a", "GET", "/v1/auth/me")
    assert me["role"] == "driver" and me["driver_id"] == world.ids["driver_a"]
    policy = world.ok("driver_a", "GET", f"/v1/policies/{world.ids['policy_a']}")
    assert policy["status"] == "active" and policy["base_premium"] == 5_000_000_000
    trips = world.ok("driver_a", "GET", "/v1/trips")
    assert [t["id"] for t in trips] == [world.ids["trip_a"]]

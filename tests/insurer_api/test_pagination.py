"""Keyset pagination over HTTP: pages follow the `Link` header, hold only what the caller may see,
never repeat or skip a row when rows are added meanwhile, and refuse a forged cursor with 422."""

import re

import httpx
from api_world import T0_NS, World, add_scored_trip

_NEXT = re.compile(r'^<(?P<url>[^>]+)>; rel="next"$')

type Rows = list[dict[str, object]]


def _walk(world: World, actor: str, path: str, limit: int, on_page: object = None) -> tuple[Rows, int]:
    """Every row of the list, following `Link: rel="next"`; and how many pages it took."""
    rows: Rows = []
    url: str | None = f"{path}{'&' if '?' in path else '?'}limit={limit}"
    pages = 0
    while url is not None:
        response = world.call(actor, "GET", url)
        assert response.status_code == 200, response.text
        page = response.json()
        assert len(page) <= limit
        rows += page
        pages += 1
        link = response.headers.get("link")
        url = None
        if link is not None:
            match = _NEXT.match(link)
            assert match is not None, link
            url = str(httpx.URL(match["url"]).copy_with(scheme=None, host=None, port=None))
        if callable(on_page):
            on_page(pages)
    return rows, pages


def test_pages_of_trips_hold_only_the_callers_rows_in_order_without_repeats(world: World) -> None:
    device_a, device_b = world.ids["device_a"], world.ids["device_b"]
    for i in range(1, 8):  # driver a: 1 + 7 trips; driver b: 1 + 4, interleaved in time
        add_scored_trip(world.api.session_factory, device_id=device_a, start_ns=T0_NS + i * 3_600 * 10**9, score=70)
        if i % 2:
            add_scored_trip(world.api.session_factory, device_id=device_b, start_ns=T0_NS + i * 3_600 * 10**9, score=60)
    added: list[int] = []

    def add_late(page: int) -> None:  # a trip arriving while the client pages: seen once, in its place
        if page == 1:
            added.append(
                add_scored_trip(world.api.session_factory, device_id=device_a, start_ns=T0_NS + 99 * 10**12, score=90)[
                    0
                ]
            )

    rows, pages = _walk(world, "driver_a", "/v1/trips", limit=3, on_page=add_late)
    ids = [r["id"] for r in rows]
    assert len(ids) == len(set(ids)) == 9 and pages == 3
    assert added[0] == ids[-1]
    starts = [r["start_ns"] for r in rows]
    assert starts == sorted(starts)
    assert {r["device_id"] for r in rows} == {device_a}

    everything, _ = _walk(world, "admin", "/v1/trips", limit=1000)
    assert len(everything) == 14 and len(_walk(world, "admin", "/v1/trips", limit=2)[0]) == 14


def test_every_list_pages_by_cursor(world: World) -> None:
    for path in ("/v1/policies", "/v1/vehicles", "/v1/drivers", "/v1/insurers", "/v1/products", "/v1/statements"):
        whole = world.ok("admin", "GET", f"{path}?limit=1000")
        paged, pages = _walk(world, "admin", path, limit=1)
        assert paged == whole and pages == len(whole) >= 2, path
    epochs_first = world.call("admin", "GET", "/v1/epochs?limit=1")
    assert epochs_first.status_code == 200


def test_a_cursor_that_is_not_ours_is_refused_with_422(world: World) -> None:
    first = world.call("admin", "GET", "/v1/trips?limit=1")
    link = _NEXT.match(first.headers["link"])
    assert link is not None
    trips_cursor = httpx.URL(link["url"]).params["after"]
    for after in ("bm90LWpzb24", "W10", "WyJ4Il0", trips_cursor):  # not JSON, [], ["x"], two keys for one
        refused = world.call("admin", "GET", f"/v1/policies?after={after}")
        assert refused.status_code == 422 and "cursor" in refused.json()["detail"], (after, refused.text)
    assert world.call("admin", "GET", "/v1/policies?after=a%20b").status_code == 422
    assert world.call("admin", "GET", "/v1/policies?limit=0").status_code == 422
    assert world.call("admin", "GET", "/v1/policies?limit=1001").status_code == 422

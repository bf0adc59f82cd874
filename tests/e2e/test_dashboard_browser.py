"""The dashboard in a real browser (Debian's Chromium, driven by Playwright) over the demo's world:
each role signs in and sees its own view, drawn from the same API."""

import json
import shutil
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from tests.e2e.conftest import DemoRun

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("demo")]

# Debian's binary itself (its /usr/bin/chromium wrapper prints a harmless warning on every start)
CHROMIUM = "/usr/lib/chromium/chromium" if shutil.which("chromium") else None


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    if not CHROMIUM:
        pytest.fail("Debian's chromium is missing: `make test` installs it (scripts/system-deps.sh)")
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=CHROMIUM,
            args=["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
        )
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def password(demo_run: DemoRun) -> str:
    return str(json.loads((demo_run.data_dir / "demo" / "summary.json").read_text())["password"])


def _sign_in(browser: Browser, demo_run: DemoRun, username: str, password: str) -> Page:
    page = browser.new_page()
    page.goto(demo_run.api_url + "/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    expect(page.locator("#who")).to_contain_text(username)
    return page


def _api(demo_run: DemoRun, username: str, password: str, path: str) -> Any:
    token = httpx.post(f"{demo_run.api_url}/v1/auth/token", data={"username": username, "password": password}).json()
    return httpx.get(demo_run.api_url + path, headers={"Authorization": f"Bearer {token['access_token']}"}).json()


def test_driver_sees_the_trip_on_the_map_the_score_trend_and_the_statement(
    browser: Browser, demo_run: DemoRun, password: str
) -> None:
    driver = next(d for d in demo_run.summary["drivers"] if d["style"] == "aggressive")
    page = _sign_in(browser, demo_run, driver["email"], password)
    trips = _api(demo_run, driver["email"], password, "/v1/trips")
    expect(page.locator("#trip-select option")).to_have_count(len(trips))
    # the newest trip: one polyline for the route, one marker per located event
    newest = _api(demo_run, driver["email"], password, f"/v1/trips/{trips[-1]['id']}")
    located = [e for e in newest["events"] if e["lat"] is not None]
    expect(page.locator("path.leaflet-interactive")).to_have_count(1 + len(located))
    expect(page.locator("#map path")).not_to_have_count(0)  # the offline road layer is drawn too
    points = page.evaluate("Chart.getChart('score-chart').data.datasets[0].data.length")
    assert points == len(trips)
    expect(page.locator("#driver-statements tbody tr")).to_have_count(1)
    expect(page.locator("#driver-statements tbody tr td").nth(6)).to_have_text(driver["charge_tx"])
    # every score the statement used sits in an epoch anchored on chain
    expect(page.locator("#driver-statements tbody tr td").nth(5)).to_have_text(f"anchored ({driver['trips']})")
    page.close()


def test_insurer_sees_the_portfolio_and_the_anchored_epochs(browser: Browser, demo_run: DemoRun, password: str) -> None:
    page = _sign_in(browser, demo_run, "ops@baltic-mutual.demo", password)
    expect(page.locator("#portfolio tbody tr")).to_have_count(3)
    expect(page.locator("#portfolio tbody")).to_contain_text("1HGCM82633A004352")
    confirmed = [e for e in demo_run.summary["epochs"] if e["state"] == "confirmed"]
    expect(page.locator("#epochs tbody")).to_contain_text(confirmed[0]["tx_hash"])
    expect(page.locator("#driver-view")).to_be_hidden()
    page.close()


def test_shop_sees_its_paid_job_and_nobody_elses(browser: Browser, demo_run: DemoRun, password: str) -> None:
    page = _sign_in(browser, demo_run, "shop-1@shops.demo", password)
    expect(page.locator("#jobs tbody tr")).to_have_count(1)
    expect(page.locator("#jobs tbody tr td").nth(2)).to_have_text("paid")
    page.close()
    other = _sign_in(browser, demo_run, "shop-2@shops.demo", password)
    expect(other.locator("#shop-view")).to_be_visible()
    expect(other.locator("#jobs tbody tr")).to_have_count(0)
    other.close()


def test_a_wrong_password_is_refused_on_the_page(browser: Browser, demo_run: DemoRun) -> None:
    page = browser.new_page()
    page.goto(demo_run.api_url + "/")
    page.fill("input[name=username]", "ops@baltic-mutual.demo")
    page.fill("input[name=password]", "not-the-password")
    page.click("button[type=submit]")
    expect(page.locator("#login-error")).to_have_text("Wrong user name or password.")
    expect(page.locator("#insurer-view")).to_be_hidden()
    page.close()

"""Money drivers move themselves (a deposit nobody told us about, a withdrawal after the policy
ends) is found by reconciliation in the escrow's events and booked once."""

import time
from datetime import UTC, datetime, timedelta

import pytest
from money_world import NEOT, MoneyWorld

from insurer_api.payments import balance, deposit_account, wallet_account
from insurer_api.payments._reconcile import reconcile

pytestmark = [pytest.mark.chain]


@pytest.fixture
def database_url(sqlite_url: str) -> str:
    """Booking observed flows is backend-independent ledger code; one backend keeps this short."""
    return sqlite_url


def test_untold_deposit_and_withdrawal_are_booked_once(money: MoneyWorld) -> None:
    end = datetime.now(UTC) + timedelta(seconds=3)
    client, driver = money.client, money.driver
    money.run(
        client.deposit_premium(
            driver,
            money.policy_chain_id(),
            operator=money.insurer.address,
            amount=70 * NEOT,
            cap_per_period=70 * NEOT,
            end=end,
        )
    )
    with money.factory() as session:
        report = money.run(reconcile(session, money.gateway))
        assert [a.result for a in report.actions] == [f"booked {70 * NEOT}"]
        assert report.differences == []
        assert balance(session, deposit_account(money.policy_id)) == 70 * NEOT
        assert money.run(reconcile(session, money.gateway)).actions == []  # booked once
    while datetime.now(UTC) < end + timedelta(seconds=1):
        time.sleep(0.2)
    money.run(client.withdraw_premium(driver, money.policy_chain_id()))
    with money.factory() as session:
        report = money.run(reconcile(session, money.gateway))
        assert [a.result for a in report.actions] == [f"booked {70 * NEOT}"]
        assert report.differences == []
        assert balance(session, deposit_account(money.policy_id)) == 0
        assert balance(session, wallet_account(driver.address)) == 0

"""The one conversion between datetimes and wire time stamps (integer ns since the epoch, UTC)."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from protocol import UNIX_EPOCH, datetime_from_ns, ns_from_datetime


def test_exact_to_the_microsecond_where_float_seconds_are_not() -> None:
    moment = datetime(2286, 11, 20, 17, 46, 39, 999_999, tzinfo=UTC)
    assert ns_from_datetime(moment) == 9_999_999_999_999_999_000
    assert int(moment.timestamp() * 1e9) != 9_999_999_999_999_999_000  # what the helpers it replaced risked
    helsinki = timezone(timedelta(hours=2))
    assert ns_from_datetime(datetime(2020, 12, 18, 8, 15, 50, 250_000, tzinfo=helsinki)) == 1_608_272_150_250_000_000
    assert ns_from_datetime(UNIX_EPOCH) == 0


def test_a_naive_datetime_is_refused() -> None:
    with pytest.raises(ValueError, match="naive datetime"):
        ns_from_datetime(datetime(2020, 12, 18, 6, 15, 50))


@given(st.datetimes(min_value=datetime(1970, 1, 1), timezones=st.just(UTC)))
def test_round_trip(moment: datetime) -> None:
    back = datetime_from_ns(ns_from_datetime(moment))
    assert back == moment and back.tzinfo is UTC

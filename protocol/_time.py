"""Instants as NEOT carries them: integer nanoseconds since the Unix epoch, UTC (a `Sample`'s
`time_ns`). The one conversion between them and timezone-aware datetimes."""

from datetime import UTC, datetime, timedelta

__all__ = ["UNIX_EPOCH", "datetime_from_ns", "ns_from_datetime"]

UNIX_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def ns_from_datetime(moment: datetime) -> int:
    """Nanoseconds since the epoch, exactly (integer arithmetic, no float rounding). A naive
    datetime is refused: it names no instant."""
    if moment.tzinfo is None:
        raise ValueError(f"naive datetime {moment.isoformat()} given where a UTC instant is required")
    return (moment - UNIX_EPOCH) // _MICROSECOND * 1000


def datetime_from_ns(time_ns: int) -> datetime:
    """The UTC instant, to the microsecond (a datetime holds no finer)."""
    return UNIX_EPOCH + timedelta(microseconds=time_ns // 1000)

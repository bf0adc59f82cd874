"""Device health: the StatusReports devices sign into their batches, and what the registry knows of
when each device was last heard from.

A device is *silent while driving* when its newest sample showed the car moving and nothing has
arrived from it for `silent_after` since. A car that parks slows to a stop before its agent goes
quiet, so a silence that starts at speed means a device that lost power, its link or its adapter
mid-drive: the trips it would have recorded are missing, and somebody should look at it.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Connection, func, insert, select
from sqlalchemy.orm import Session

from models import Device, DeviceStatusReport
from protocol import Configure, StatusReport
from scoring_service.devices._registry import pending_configure

__all__ = [
    "MOVING_KMH",
    "SILENT_AFTER",
    "DeviceHealth",
    "StatusSnapshot",
    "device_health",
    "record_status_report",
    "status_reports",
]

#: A newest sample at or above this speed means the car was driving.
MOVING_KMH = 5.0
#: Heard nothing for this long after a moving sample: silent while driving.
SILENT_AFTER = timedelta(minutes=10)


@dataclass(frozen=True, slots=True)
class StatusSnapshot:
    """One stored StatusReport: the fields health shows, and the report exactly as sent."""

    received_at: datetime
    batch_seq: int
    agent_version: str
    config_id: int | None
    sample_rate_hz: int
    buffered_samples: int
    dropped_samples: int
    last_ack_seq: int | None
    adapters: Mapping[str, str]
    report: Mapping[str, Any]


@dataclass(frozen=True, slots=True)
class DeviceHealth:
    """What the server knows of one device's health and what it has queued for it."""

    device_id: int
    vehicle_id: int
    address: str
    last_seq: int
    last_seen_at: datetime | None
    last_sample_ns: int | None
    last_speed_kmh: float | None
    agent_version: str | None
    pending_configure: Configure | None
    status_query_pending: bool
    latest_report: StatusSnapshot | None
    silent_while_driving: bool


def record_status_report(
    conn: Connection,
    *,
    device_id: int,
    batch_seq: int,
    agent_version: str,
    report: StatusReport,
    report_json: Mapping[str, Any],
    now: datetime,
) -> None:
    """Store a report that arrived signed in batch `batch_seq`, in the caller's transaction."""
    conn.execute(
        insert(DeviceStatusReport).values(
            device_id=device_id,
            batch_seq=batch_seq,
            received_at=now,
            agent_version=agent_version,
            config_id=report.config_id,
            sample_rate_hz=report.sample_rate_hz,
            buffered_samples=report.buffered_samples,
            dropped_samples=report.dropped_samples,
            last_ack_seq=report.last_ack_seq,
            adapters=dict(report.adapters),
            report=dict(report_json),
        )
    )


def _snapshot(row: DeviceStatusReport) -> StatusSnapshot:
    return StatusSnapshot(
        received_at=row.received_at,
        batch_seq=row.batch_seq,
        agent_version=row.agent_version,
        config_id=row.config_id,
        sample_rate_hz=row.sample_rate_hz,
        buffered_samples=row.buffered_samples,
        dropped_samples=row.dropped_samples,
        last_ack_seq=row.last_ack_seq,
        adapters=dict(row.adapters),
        report=dict(row.report),
    )


def _silent(device: Device, now: datetime, silent_after: timedelta) -> bool:
    return (
        device.last_seen_at is not None
        and device.last_speed_kmh is not None
        and device.last_speed_kmh >= MOVING_KMH
        and now - device.last_seen_at >= silent_after
    )


def device_health(
    session: Session, *, where: ColumnElement[bool], now: datetime, silent_after: timedelta = SILENT_AFTER
) -> list[DeviceHealth]:
    """Health of every device `where` admits (e.g. an access condition), in id order: one query."""
    latest = (
        select(DeviceStatusReport.device_id, func.max(DeviceStatusReport.id).label("report_id"))
        .group_by(DeviceStatusReport.device_id)
        .subquery()
    )
    rows = session.execute(
        select(Device, DeviceStatusReport)
        .outerjoin(latest, latest.c.device_id == Device.id)
        .outerjoin(DeviceStatusReport, DeviceStatusReport.id == latest.c.report_id)
        .where(where)
        .order_by(Device.id)
    ).all()
    return [
        DeviceHealth(
            device_id=device.id,
            vehicle_id=device.vehicle_id,
            address=device.neo_address,
            last_seq=device.last_seq,
            last_seen_at=device.last_seen_at,
            last_sample_ns=device.last_sample_ns,
            last_speed_kmh=device.last_speed_kmh,
            agent_version=device.agent_version,
            pending_configure=pending_configure(device.pending_config),
            status_query_pending=device.status_query_at is not None,
            latest_report=None if report is None else _snapshot(report),
            silent_while_driving=_silent(device, now, silent_after),
        )
        for device, report in rows
    ]


def status_reports(session: Session, *, device_id: int, limit: int) -> list[StatusSnapshot]:
    """The device's newest `limit` reports, newest first."""
    rows = session.scalars(
        select(DeviceStatusReport)
        .where(DeviceStatusReport.device_id == device_id)
        .order_by(DeviceStatusReport.id.desc())
        .limit(limit)
    )
    return [_snapshot(row) for row in rows]

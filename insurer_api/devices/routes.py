"""`/v1/devices`: device health, and the Signals an operator sends to a device.

| endpoint                                  | admin | insurer                     | driver             | shop |
| ----------------------------------------- | ----- | --------------------------- | ------------------ | ---- |
| GET /devices[/{id}[/status-reports]]      | all   | on vehicles it insures      | on its own vehicles | 403  |
| POST /devices/{id}/configure, /status-query | all | on vehicles it insures      | 403                | 403  |

Who sees which device is `insurer_api.access.device_visible`; a device outside the caller's reach
is 404. Signals are queued here and delivered by the device edge with its next acknowledgement.
"""

from datetime import UTC, datetime, timedelta
from typing import Annotated

import structlog
from fastapi import APIRouter, Query
from sqlalchemy.orm import Session

from insurer_api.access import device_visible, get_visible
from insurer_api.deps import CurrentUser, ObjectId, SessionDep, require_role
from insurer_api.devices._schemas import (
    ConfigurePublic,
    ConfigureRequest,
    DeviceHealthPublic,
    SignalQueued,
    StatusReportPublic,
)
from insurer_api.errors import InvalidRequestError
from models import Device, Role, User
from protocol import Configure, datetime_from_ns
from scoring_service import devices

__all__ = ["router"]

router = APIRouter(prefix="/v1/devices", tags=["devices"])
_log = structlog.get_logger(__name__)

_READERS = require_role(Role.ADMIN, Role.INSURER, Role.DRIVER)
_OPERATORS = require_role(Role.ADMIN, Role.INSURER)
_SILENT_AFTER = Query(ge=60, le=7 * 24 * 3600, description="Silence after a moving sample that counts as a fault")


def _configure(configure: Configure | None) -> ConfigurePublic | None:
    if configure is None:
        return None
    return ConfigurePublic(
        config_id=configure.config_id,
        sample_rate_hz=configure.sample_rate_hz,
        pids=list(configure.pids),
        upload_interval_s=configure.upload_interval_s,
    )


def _report(snapshot: devices.StatusSnapshot) -> StatusReportPublic:
    return StatusReportPublic(
        received_at=snapshot.received_at,
        batch_seq=snapshot.batch_seq,
        agent_version=snapshot.agent_version,
        config_id=snapshot.config_id,
        sample_rate_hz=snapshot.sample_rate_hz,
        buffered_samples=snapshot.buffered_samples,
        dropped_samples=snapshot.dropped_samples,
        last_ack_seq=snapshot.last_ack_seq,
        adapters=snapshot.adapters,
        report=snapshot.report,
    )


def _public(health: devices.DeviceHealth) -> DeviceHealthPublic:
    last_sample_at = None if health.last_sample_ns is None else datetime_from_ns(health.last_sample_ns)
    return DeviceHealthPublic(
        id=health.device_id,
        vehicle_id=health.vehicle_id,
        neo_address=health.address,
        last_seq=health.last_seq,
        last_seen_at=health.last_seen_at,
        last_sample_at=last_sample_at,
        last_speed_kmh=health.last_speed_kmh,
        agent_version=health.agent_version,
        silent_while_driving=health.silent_while_driving,
        pending_configure=_configure(health.pending_configure),
        status_query_pending=health.status_query_pending,
        latest_report=None if health.latest_report is None else _report(health.latest_report),
    )


def _visible_device(session: Session, user: User, device_id: int) -> Device:
    return get_visible(session=session, model=Device, object_id=device_id, visible=device_visible(user), kind="device")


def _health(session: Session, device_id: int, silent_after: timedelta = devices.SILENT_AFTER) -> devices.DeviceHealth:
    """The health of a device the caller was found to see."""
    (health,) = devices.device_health(
        session, where=Device.id == device_id, now=datetime.now(UTC), silent_after=silent_after
    )
    return health


def _queued(session: Session, device_id: int) -> SignalQueued:
    health = _health(session, device_id)
    return SignalQueued(
        device_id=device_id,
        configure=_configure(health.pending_configure),
        status_query_pending=health.status_query_pending,
    )


@router.get(
    "", response_model=list[DeviceHealthPublic], dependencies=[_READERS], summary="Health of devices you may see"
)
def get_devices(
    user: CurrentUser,
    session: SessionDep,
    silent_only: Annotated[bool, Query(description="Only devices that went silent while the car drove")] = False,
    silent_after_s: Annotated[int, _SILENT_AFTER] = int(devices.SILENT_AFTER.total_seconds()),
) -> list[DeviceHealthPublic]:
    healths = devices.device_health(
        session, where=device_visible(user), now=datetime.now(UTC), silent_after=timedelta(seconds=silent_after_s)
    )
    return [_public(h) for h in healths if h.silent_while_driving or not silent_only]


@router.get("/{device_id}", response_model=DeviceHealthPublic, dependencies=[_READERS], summary="One device's health")
def get_device(
    device_id: ObjectId,
    user: CurrentUser,
    session: SessionDep,
    silent_after_s: Annotated[int, _SILENT_AFTER] = int(devices.SILENT_AFTER.total_seconds()),
) -> DeviceHealthPublic:
    _visible_device(session, user, device_id)
    return _public(_health(session, device_id, timedelta(seconds=silent_after_s)))


@router.get(
    "/{device_id}/status-reports",
    response_model=list[StatusReportPublic],
    dependencies=[_READERS],
    summary="A device's status reports, newest first",
)
def get_status_reports(
    device_id: ObjectId,
    user: CurrentUser,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
) -> list[StatusReportPublic]:
    _visible_device(session, user, device_id)
    return [_report(s) for s in devices.status_reports(session, device_id=device_id, limit=limit)]


@router.post(
    "/{device_id}/configure",
    response_model=SignalQueued,
    status_code=202,
    dependencies=[_OPERATORS],
    summary="Send new settings to a device (sample rate, PIDs, upload interval)",
)
def post_configure(device_id: ObjectId, body: ConfigureRequest, user: CurrentUser, session: SessionDep) -> SignalQueued:
    """Queued now, delivered with the acknowledgement of the device's next upload; the device
    applies it and names its `config_id` in a StatusReport, which clears it. A newer Configure
    replaces one not yet applied."""
    _visible_device(session, user, device_id)
    try:
        configure = devices.queue_configure(
            session,
            device_id=device_id,
            sample_rate_hz=body.sample_rate_hz,
            pids=body.pids,
            upload_interval_s=body.upload_interval_s,
        )
    except devices.InvalidConfigureError as exc:
        raise InvalidRequestError(exc.message) from exc
    session.commit()
    _log.info("configure queued", device_id=device_id, config_id=configure.config_id, by=user.id)
    return _queued(session, device_id)


@router.post(
    "/{device_id}/status-query",
    response_model=SignalQueued,
    status_code=202,
    dependencies=[_OPERATORS],
    summary="Ask a device for a status report",
)
def post_status_query(device_id: ObjectId, user: CurrentUser, session: SessionDep) -> SignalQueued:
    """Queued now; the device answers with a StatusReport in its next upload (see `GET /v1/devices/{id}`)."""
    _visible_device(session, user, device_id)
    devices.queue_status_query(session, device_id=device_id, now=datetime.now(UTC))
    session.commit()
    _log.info("status query queued", device_id=device_id, by=user.id)
    return _queued(session, device_id)

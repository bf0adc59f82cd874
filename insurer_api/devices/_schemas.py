"""Bodies of the device-management endpoints: health as the dashboard shows it, and the Signals an
operator sends. Apart from the ORM rows and from `scoring_service.devices`' dataclasses."""

from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, Field, StringConstraints

from protocol import MAX_PIDS

__all__ = ["ConfigurePublic", "ConfigureRequest", "DeviceHealthPublic", "SignalQueued", "StatusReportPublic"]

# python-obd command names (`SPEED`, `RPM`, `COOLANT_TEMP`), as the Configure signal carries them.
type Pid = Annotated[str, StringConstraints(pattern=r"^[A-Z0-9_]{1,32}$")]


class ConfigureRequest(BaseModel):
    """New settings for a device; the server numbers them (`config_id`)."""

    sample_rate_hz: int = Field(ge=1, le=10, description="Readings per second the agent takes")
    pids: list[Pid] = Field(
        default_factory=list, max_length=MAX_PIDS, description="OBD-II commands to read; empty keeps the agent's own"
    )
    upload_interval_s: int = Field(ge=1, le=86_400, description="Seconds between the agent's uploads")


class ConfigurePublic(BaseModel):
    config_id: int
    sample_rate_hz: int
    pids: list[str]
    upload_interval_s: int


class SignalQueued(BaseModel):
    """A signal waiting for the device: every acknowledgement of its uploads carries it until the
    device's StatusReport answers it."""

    device_id: int
    configure: ConfigurePublic | None
    status_query_pending: bool


class StatusReportPublic(BaseModel):
    """One StatusReport as the device signed it into batch `batch_seq`. `report` is the signal as
    sent, with any member a newer agent adds; the other fields are read from it."""

    received_at: datetime
    batch_seq: int
    agent_version: str
    config_id: int | None
    sample_rate_hz: int
    buffered_samples: int = Field(description="Samples waiting in the agent's buffer")
    dropped_samples: int = Field(description="Samples the agent dropped because its buffer was full")
    last_ack_seq: int | None
    adapters: Mapping[str, str] = Field(description="Adapter name → state (`ok`, `reconnecting`, `no_fix`, …)")
    report: Mapping[str, Any]


class DeviceHealthPublic(BaseModel):
    """A device's health: when it was last heard from, its newest sample, its latest report."""

    id: int
    vehicle_id: int
    neo_address: str
    last_seq: int
    last_seen_at: datetime | None = Field(description="When its newest batch arrived")
    last_sample_at: datetime | None = Field(description="Time of its newest sample (the device's clock)")
    last_speed_kmh: float | None
    agent_version: str | None
    silent_while_driving: bool = Field(
        description="Its newest sample showed the car moving and nothing has arrived since `silent_after_s`"
    )
    pending_configure: ConfigurePublic | None
    status_query_pending: bool
    latest_report: StatusReportPublic | None

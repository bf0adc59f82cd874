"""Health and Prometheus metrics of the scoring side's processes: the HTTP routes of the services,
the small server of the loops (score worker, anchorer), their heartbeats, and the metrics."""

from scoring_service.monitoring._heartbeat import Heartbeat, HeartbeatStatus
from scoring_service.monitoring._metrics import (
    BATCHES_INGESTED,
    CHAIN_ERRORS,
    DEVICES_SCORED,
    EPOCH_LAG,
    EPOCHS_ANCHORED,
    SAMPLES_INGESTED,
    SCORING_BACKLOG,
    SCORING_ERRORS,
    TRIPS_SCORED,
)
from scoring_service.monitoring._server import HealthServer
from scoring_service.monitoring.routes import router

__all__ = [
    "BATCHES_INGESTED",
    "CHAIN_ERRORS",
    "DEVICES_SCORED",
    "EPOCHS_ANCHORED",
    "EPOCH_LAG",
    "SAMPLES_INGESTED",
    "SCORING_BACKLOG",
    "SCORING_ERRORS",
    "TRIPS_SCORED",
    "HealthServer",
    "Heartbeat",
    "HeartbeatStatus",
    "router",
]

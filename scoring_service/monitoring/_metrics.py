"""The Prometheus metrics of the scoring side, one object each, in the process-wide registry.

Each process exposes the ones it moves: the scoring service (ingestion), the score worker, the
anchorer. Names follow Prometheus conventions (`_total` is added to counters by the client).
"""

from prometheus_client import Counter, Gauge

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
]

SAMPLES_INGESTED = Counter("neot_samples_ingested", "Samples stored from signed batches (repeats not counted)")
BATCHES_INGESTED = Counter("neot_batches_ingested", "Signed batches stored (repeats not counted)")
TRIPS_SCORED = Counter("neot_trips_scored", "Trips segmented, scored and stored by the score worker")
DEVICES_SCORED = Counter("neot_devices_scored", "Devices the score worker brought up to date")
SCORING_ERRORS = Counter("neot_scoring_errors", "Devices whose scoring failed (retried later)")
SCORING_BACKLOG = Gauge("neot_scoring_backlog_devices", "Devices with new data due for scoring")
EPOCH_LAG = Gauge(
    "neot_epoch_lag_seconds", "Age of the oldest committed record that is not yet in a confirmed anchor (0: none)"
)
EPOCHS_ANCHORED = Counter("neot_epochs_anchored", "Epochs whose anchor transaction was confirmed on chain")
CHAIN_ERRORS = Counter("neot_chain_errors", "Failures talking to the NEO node: unreachable, refused or conflicting")

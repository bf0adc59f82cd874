"""Continuous scoring: the work source ingestion marks (`dirty_devices`) and the seam other sources
fit (`WorkSource`). The worker loop itself, which loads the scoring pipeline (numpy), is in
`scoring_service.worker.service`, so ingestion can mark devices without importing it."""

from scoring_service.worker._dirty import DirtyDevices, mark_dirty
from scoring_service.worker._source import DueDevice, WorkSource

__all__ = ["DirtyDevices", "DueDevice", "WorkSource", "mark_dirty"]

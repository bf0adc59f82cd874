"""The repair package's exception tree.

RepairError                 anything that stops a repair-job operation
├── JobStateError           the job is not in a state that allows this step (409)
├── InvalidRepairError      well-formed but unusable input: invoice above authorisation,
│                           unknown service pattern, capacity below one (422)
└── NotFoundError           no such job / shop / vehicle, or not one the caller may see (404)
"""

__all__ = ["InvalidRepairError", "JobStateError", "NotFoundError", "RepairError"]


class RepairError(Exception):
    """Base of every repair error."""


class JobStateError(RepairError):
    """The step does not fit the job's current state (e.g. paying a job twice)."""


class InvalidRepairError(RepairError):
    """The request cannot be carried out as asked."""


class NotFoundError(RepairError):
    """The object does not exist (or is hidden from the caller)."""

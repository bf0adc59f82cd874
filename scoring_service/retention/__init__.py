"""Raw samples are kept for a period after their month is billed, then deleted: whole month
partitions dropped on PostgreSQL, rows deleted on SQLite. Trips, events, scores, commitments and
batch records stay (scores remain provable; a replayed old batch is still recognised)."""

from scoring_service.retention._samples import Purge, RetentionPolicy, expired_months, purge_expired_samples

__all__ = ["Purge", "RetentionPolicy", "expired_months", "purge_expired_samples"]

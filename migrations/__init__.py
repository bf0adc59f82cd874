"""Alembic migrations: the only thing that changes the schema, on SQLite and PostgreSQL alike."""

from migrations._runner import current_revision, downgrade, head_revision, upgrade

__all__ = ["current_revision", "downgrade", "head_revision", "upgrade"]

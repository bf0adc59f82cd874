"""Alembic environment: one code path for SQLite (batch mode) and PostgreSQL."""

from alembic import context
from sqlalchemy import pool

from models import Base, is_month_partition, make_engine

config = context.config
target_metadata = Base.metadata


def run_migrations() -> None:
    """Migrate over a live connection; offline SQL generation is not offered."""
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("sqlalchemy.url must be set (migrations._runner.alembic_config does)")
    connectable = config.attributes.get("connection") or make_engine(url, poolclass=pool.NullPool)
    if hasattr(connectable, "connect"):
        with connectable.connect() as connection:
            _configure_and_run(connection)
    else:
        _configure_and_run(connectable)


def include_object(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
    """Autogenerate leaves the month partitions of `samples` alone: they are made at run time."""
    return not (type_ == "table" and name is not None and is_month_partition(name))


def _configure_and_run(connection: object) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=target_metadata,
        compare_type=True,
        render_as_batch=True,
        include_object=include_object,
    )
    with context.begin_transaction():
        context.run_migrations()


run_migrations()

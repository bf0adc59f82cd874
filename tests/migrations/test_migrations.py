"""The migrations build exactly the models' schema on both databases, and undo cleanly."""

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

import migrations
from models import Base, is_month_partition, make_engine


def _not_a_month_partition(obj: object, name: str | None, type_: str, reflected: bool, compare_to: object) -> bool:
    return not (type_ == "table" and name is not None and is_month_partition(name))


def test_upgrade_matches_models_then_downgrade_to_base(database_url: str) -> None:
    migrations.upgrade(database_url)
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            opts = {"compare_type": True, "include_object": _not_a_month_partition}
            context = MigrationContext.configure(conn, opts=opts)
            diff = compare_metadata(context, Base.metadata)
        assert diff == [], f"models and migrations drifted: {diff}"
        assert migrations.current_revision(engine) == migrations.head_revision()
        assert set(Base.metadata.tables) <= set(inspect(engine).get_table_names())

        migrations.downgrade(database_url)
        remaining = set(inspect(engine).get_table_names()) - {"alembic_version"}
        assert remaining == set()
        assert migrations.current_revision(engine) is None
    finally:
        engine.dispose()

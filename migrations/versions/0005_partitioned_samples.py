"""samples by month without per-row foreign keys; device-led keys; stored audit paths; trips by (device, end); credential revocations

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02 00:10:00

- `samples` loses its id, batch id and both foreign keys; its key becomes (device_id, time_ns, seq),
  `seq` naming the batch in `upload_batches`. On PostgreSQL it becomes a table partitioned by
  month of `time_ns`, with a partition for every month that holds data and for the months
  around now. SQLite keeps one plain table.
- `upload_batches` is keyed by (device_id, seq) instead of a surrogate id.
- `commitments.audit_path` holds each leaf's audit path once its epoch is closed (back-filled
  here for epochs closed before).
- `trips` is indexed by (device_id, end_ns) instead of device_id alone.
- `credential_revocations` voids a user's access tokens issued before a moment.
"""

from collections.abc import Sequence
from typing import Any
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

import models
from protocol import MerkleTree

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
_READINGS: tuple[tuple[str, sa.types.TypeEngine[Any]], ...] = (
    ("lat", sa.Double()),
    ("lon", sa.Double()),
    ("gps_speed_kmh", sa.Double()),
    ("heading_deg", sa.Double()),
    ("hdop", sa.Double()),
    ("satellites", _ID),
    ("speed_kmh", sa.Double()),
    ("rpm", sa.Double()),
    ("throttle_pct", sa.Double()),
    ("engine_load_pct", sa.Double()),
    ("coolant_c", sa.Double()),
    ("fuel_pct", sa.Double()),
    ("maf_gs", sa.Double()),
)
_READING_NAMES = ", ".join(name for name, _ in _READINGS)


def _readings() -> list[sa.Column[object]]:
    return [sa.Column(name, kind, nullable=True) for name, kind in _READINGS]


def upgrade() -> None:
    bind = op.get_bind()
    postgres = bind.dialect.name == "postgresql"

    # samples: rebuilt under the new key, filled from the old table
    op.rename_table("samples", "samples_old")
    with op.batch_alter_table("samples_old") as batch_op:
        batch_op.drop_index("ix_samples_device_time")
        batch_op.drop_index("ix_samples_batch_id")
    if postgres:
        op.execute("ALTER TABLE samples_old DROP CONSTRAINT pk_samples")
    op.create_table(
        "samples",
        sa.Column("device_id", _ID, nullable=False),
        sa.Column("time_ns", _ID, nullable=False),
        sa.Column("seq", _ID, nullable=False),
        *_readings(),
        sa.PrimaryKeyConstraint("device_id", "time_ns", "seq", name=op.f("pk_samples")),
        postgresql_partition_by="RANGE (time_ns)",
    )
    if postgres:
        now_ns = int(datetime.now(UTC).timestamp()) * 1_000_000_000
        months = {models.month_of_ns(now_ns), models.month_of_ns(now_ns - 31 * 86_400 * 10**9), models.month_of_ns(now_ns + 31 * 86_400 * 10**9)}
        days = bind.execute(
            sa.text("SELECT DISTINCT time_ns / :day_ns FROM samples_old"), {"day_ns": 86_400 * 10**9}
        ).scalars()
        months |= {models.month_of_ns(day * 86_400 * 10**9) for day in days}
        models.ensure_month_partitions(bind, sorted(months))
    op.execute(
        f"INSERT INTO samples (device_id, time_ns, seq, {_READING_NAMES}) "
        f"SELECT o.device_id, o.time_ns, b.seq, {', '.join('o.' + name for name, _ in _READINGS)} "
        "FROM samples_old o JOIN upload_batches b ON b.id = o.batch_id"
    )
    op.drop_table("samples_old")

    # upload_batches: keyed by (device_id, seq)
    with op.batch_alter_table("upload_batches") as batch_op:
        batch_op.drop_constraint("uq_upload_batches_device_id_seq", type_="unique")
        batch_op.drop_constraint("pk_upload_batches", type_="primary")
        batch_op.drop_column("id")
        batch_op.create_primary_key("pk_upload_batches", ["device_id", "seq"])

    # trips: one index serving a device's watermark and its month's trips
    with op.batch_alter_table("trips") as batch_op:
        batch_op.drop_index("ix_trips_device_id")
        batch_op.create_index("ix_trips_device_id_end_ns", ["device_id", "end_ns"], unique=False)

    # commitments: audit paths stored at close; epochs closed before get theirs now
    with op.batch_alter_table("commitments") as batch_op:
        batch_op.add_column(sa.Column("audit_path", sa.LargeBinary(), nullable=True))
    _backfill_audit_paths(bind)

    op.create_table(
        "credential_revocations",
        sa.Column("id", _ID, nullable=False),
        sa.Column("user_id", _ID, nullable=False),
        sa.Column("revoked_at", models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["user_id"], ["users.id"], name=op.f("fk_credential_revocations_user_id_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credential_revocations")),
    )
    with op.batch_alter_table("credential_revocations") as batch_op:
        batch_op.create_index(batch_op.f("ix_credential_revocations_revoked_at"), ["revoked_at"], unique=False)


def _backfill_audit_paths(bind: sa.Connection) -> None:
    epochs = bind.execute(sa.text("SELECT DISTINCT epoch FROM commitments WHERE epoch IS NOT NULL")).scalars().all()
    for epoch in epochs:
        rows = bind.execute(
            sa.text("SELECT id, leaf_hash FROM commitments WHERE epoch = :epoch ORDER BY leaf_index"), {"epoch": epoch}
        ).all()
        tree = MerkleTree([leaf for _, leaf in rows])
        bind.execute(
            sa.text("UPDATE commitments SET audit_path = :path WHERE id = :id"),
            [{"id": row_id, "path": b"".join(tree.audit_path(i))} for i, (row_id, _) in enumerate(rows)],
        )


def downgrade() -> None:
    bind = op.get_bind()
    postgres = bind.dialect.name == "postgresql"

    with op.batch_alter_table("credential_revocations") as batch_op:
        batch_op.drop_index(batch_op.f("ix_credential_revocations_revoked_at"))
    op.drop_table("credential_revocations")

    with op.batch_alter_table("commitments") as batch_op:
        batch_op.drop_column("audit_path")

    with op.batch_alter_table("trips") as batch_op:
        batch_op.drop_index("ix_trips_device_id_end_ns")
        batch_op.create_index("ix_trips_device_id", ["device_id"], unique=False)

    # upload_batches: a surrogate id again, numbered in (device, seq) order
    op.rename_table("samples", "samples_new")
    if postgres:
        op.execute("ALTER TABLE samples_new DROP CONSTRAINT pk_samples")
    op.rename_table("upload_batches", "upload_batches_new")
    if postgres:
        op.execute("ALTER TABLE upload_batches_new DROP CONSTRAINT pk_upload_batches")
        op.execute("ALTER TABLE upload_batches_new DROP CONSTRAINT fk_upload_batches_device_id_devices")
    op.create_table(
        "upload_batches",
        sa.Column("id", _ID, nullable=False),
        sa.Column("device_id", _ID, nullable=False),
        sa.Column("seq", _ID, nullable=False),
        sa.Column("content_sha256", sa.LargeBinary(length=32), nullable=False),
        sa.Column("sample_count", _ID, nullable=False),
        sa.Column("received_at", models.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["device_id"], ["devices.id"], name=op.f("fk_upload_batches_device_id_devices")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_upload_batches")),
        sa.UniqueConstraint("device_id", "seq", name=op.f("uq_upload_batches_device_id_seq")),
    )
    op.execute(
        "INSERT INTO upload_batches (device_id, seq, content_sha256, sample_count, received_at) "
        "SELECT device_id, seq, content_sha256, sample_count, received_at FROM upload_batches_new "
        "ORDER BY device_id, seq"
    )
    op.drop_table("upload_batches_new")
    op.create_table(
        "samples",
        sa.Column("id", _ID, nullable=False),
        sa.Column("batch_id", _ID, nullable=False),
        sa.Column("device_id", _ID, nullable=False),
        sa.Column("time_ns", _ID, nullable=False),
        *_readings(),
        sa.ForeignKeyConstraint(["batch_id"], ["upload_batches.id"], name=op.f("fk_samples_batch_id_upload_batches")),
        sa.ForeignKeyConstraint(["device_id"], ["devices.id"], name=op.f("fk_samples_device_id_devices")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_samples")),
    )
    op.execute(
        f"INSERT INTO samples (batch_id, device_id, time_ns, {_READING_NAMES}) "
        f"SELECT b.id, n.device_id, n.time_ns, {', '.join('n.' + name for name, _ in _READINGS)} "
        "FROM samples_new n JOIN upload_batches b ON b.device_id = n.device_id AND b.seq = n.seq "
        "ORDER BY n.device_id, n.time_ns, n.seq"
    )
    op.drop_table("samples_new")
    with op.batch_alter_table("samples") as batch_op:
        batch_op.create_index(batch_op.f("ix_samples_batch_id"), ["batch_id"], unique=False)
        batch_op.create_index("ix_samples_device_time", ["device_id", "time_ns"], unique=False)


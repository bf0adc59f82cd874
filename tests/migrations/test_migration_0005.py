"""Revision 0005 carries stored data over: samples keep every reading under their batch's seq (in
month partitions on PostgreSQL), batches keep their key, closed epochs get their audit paths."""

from datetime import UTC, datetime

from sqlalchemy import text

import migrations
from models import make_engine, month_partitions
from protocol import MerkleTree, root_from_audit_path

_T0 = int(datetime(2025, 1, 31, 23, 59, 59, tzinfo=UTC).timestamp()) * 10**9  # a month boundary follows


def test_upgrade_keeps_samples_batches_and_proves_closed_epochs(database_url: str) -> None:
    migrations.upgrade(database_url, "0004")
    engine = make_engine(database_url)
    leaves = [bytes([i]) * 32 for i in range(5)]
    try:
        with engine.begin() as conn:
            now = datetime.now(UTC).isoformat(" ")  # a plain string: SQLite has no datetime type
            conn.execute(
                text("INSERT INTO drivers (id, name, email, created_at) VALUES (1, 'Ada', 'ada@x.test', :now)"),
                {"now": now},
            )
            conn.execute(
                text("INSERT INTO vehicles (id, driver_id, vin, created_at) VALUES (1, 1, 'VIN00000000000001', :now)"),
                {"now": now},
            )
            conn.execute(
                text(
                    "INSERT INTO devices (id, vehicle_id, neo_address, public_key, last_seq, created_at)"
                    " VALUES (1, 1, 'NfgHwwTi3wHAS8aFAN243C5vGbkYDpqLHP', :key, 8, :now)"
                ),
                {"key": b"\x02" * 33, "now": now},
            )
            for batch_id, seq in ((1, 7), (2, 8)):
                conn.execute(
                    text(
                        "INSERT INTO upload_batches (id, device_id, seq, content_sha256, sample_count, received_at)"
                        " VALUES (:id, 1, :seq, :sha, 2, :now)"
                    ),
                    {"id": batch_id, "seq": seq, "sha": bytes([seq]) * 32, "now": now},
                )
            samples = [(1, _T0), (1, _T0 + 10**9), (2, _T0 + 2 * 10**9), (2, _T0 + 3 * 10**9)]
            conn.execute(
                text("INSERT INTO samples (batch_id, device_id, time_ns, speed_kmh) VALUES (:b, 1, :t, :v)"),
                [{"b": b, "t": t, "v": 10.0 + i} for i, (b, t) in enumerate(samples)],
            )
            tree = MerkleTree(leaves)
            conn.execute(
                text(
                    "INSERT INTO score_epochs (epoch, state, root, leaf_count, opened_at)"
                    " VALUES (0, 'closed', :root, 5, :now)"
                ),
                {"root": tree.root, "now": now},
            )
            conn.execute(
                text(
                    "INSERT INTO commitments (record_type, record_id, canonical, salt, leaf_hash, epoch, leaf_index,"
                    " committed_at) VALUES ('trip_score', :i, :c, :s, :leaf, 0, :i, :now)"
                ),
                [{"i": i, "c": b"{}", "s": b"\x00" * 32, "leaf": leaf, "now": now} for i, leaf in enumerate(leaves)],
            )

        migrations.upgrade(database_url)

        with engine.connect() as conn:
            rows = conn.execute(text("SELECT device_id, seq, time_ns, speed_kmh FROM samples ORDER BY time_ns")).all()
            assert [tuple(r) for r in rows] == [
                (1, 7, _T0, 10.0),
                (1, 7, _T0 + 10**9, 11.0),
                (1, 8, _T0 + 2 * 10**9, 12.0),
                (1, 8, _T0 + 3 * 10**9, 13.0),
            ]
            batches = conn.execute(text("SELECT device_id, seq, sample_count FROM upload_batches ORDER BY seq")).all()
            assert [tuple(b) for b in batches] == [(1, 7, 2), (1, 8, 2)]
            if engine.dialect.name == "postgresql":
                months = {p.month.isoformat() for p in month_partitions(conn)}
                assert {"2025-01-01", "2025-02-01"} <= months
                january = conn.scalar(text("SELECT count(*) FROM samples_p2025_01"))
                assert january == 1  # the rest fell in February's partition
            paths = conn.execute(text("SELECT leaf_index, leaf_hash, audit_path FROM commitments ORDER BY leaf_index"))
            for index, leaf, path in paths:
                audit = [path[i : i + 32] for i in range(0, len(path), 32)]
                assert root_from_audit_path(leaf, index, 5, audit) == MerkleTree(leaves).root
    finally:
        engine.dispose()

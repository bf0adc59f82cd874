"""The in-car agent's real uplink against the real ingestion endpoint: what one sends, the other
stores once and acknowledges, and a Configure makes the round trip."""

from collections.abc import Callable
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from models import Device, UploadBatch
from protocol import Ack, Configure, DeviceKey, Sample, StatusReport
from scoring_service.devices import set_pending_config
from vehicle_agent._buffer import Buffer
from vehicle_agent._uplink import Uplink

type Stored = Callable[[], tuple[int, int]]


def test_agent_uplink_batches_are_stored_once_and_a_configure_comes_back_applied(
    tmp_path: Path,
    service_url: str,
    device: DeviceKey,
    drive: Callable[..., tuple[Sample, ...]],
    session_factory: sessionmaker[Session],
    stored: Stored,
) -> None:
    configure = Configure(config_id=8, sample_rate_hz=5, pids=("SPEED",), upload_interval_s=15)
    with session_factory() as session:
        row = session.scalars(select(Device).where(Device.neo_address == device.address)).one()
        set_pending_config(session, device=row, configure=configure)
        session.commit()
    acks: list[Ack] = []
    applied: list[int | None] = [None]

    def report() -> StatusReport:
        return StatusReport(
            config_id=applied[0], sample_rate_hz=5, buffered_samples=0, dropped_samples=0, last_ack_seq=None
        )

    def on_ack(ack: Ack) -> None:
        acks.append(ack)
        if ack.configure is not None:
            applied[0] = ack.configure.config_id
            uplink.report_due = True  # as the agent does after applying a Configure

    with Buffer(tmp_path / "buffer.sqlite3") as buffer:
        uplink = Uplink(
            server_url=service_url,
            buffer=buffer,
            key=device,
            agent_version="0.1.0",
            report=report,
            on_ack=on_ack,
            max_batch_samples=250,
        )
        try:
            for sample in drive(1000):
                buffer.add(sample)
            while buffer.stats().depth:
                assert uplink.step() == 0.0 or not buffer.stats().depth, uplink.counters.last_error
            assert uplink.counters.rejected_batches == 0
        finally:
            uplink.close()

    first = acks[0].seq  # the agent starts its seqs from the clock, so a reset buffer never reuses one
    assert [a.seq for a in acks] == [first, first + 1, first + 2, first + 3]
    assert acks[0].configure == configure
    assert acks[-1].configure is None  # the batch after applying it reported config 8
    assert stored() == (4, 1000)
    with session_factory() as session:
        assert session.scalar(select(Device.pending_config)) is None
        assert sorted(session.scalars(select(UploadBatch.sample_count))) == [250] * 4
        assert session.scalar(select(Device.last_seq)) == first + 3

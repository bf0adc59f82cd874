"""Workers sharing the devices: worker i of n takes only the dirty devices whose id is i mod n,
so together they take each device once, and the backlog each reports is its own."""

from sqlalchemy.orm import Session, sessionmaker

from models import Driver, Vehicle
from protocol import DeviceKey
from scoring_service.devices import register_device
from scoring_service.worker import DirtyDevices, mark_dirty


def test_each_worker_takes_only_its_own_devices(session_factory: sessionmaker[Session]) -> None:
    with session_factory() as session:
        ids = []
        for n in range(7):
            vehicle = Vehicle(driver=Driver(name=f"O{n}", email=f"o{n}@own.test"), vin=f"WVWZZZ1JZXW{n:06d}")
            session.add(vehicle)
            session.flush()
            ids.append(register_device(session, vehicle_id=vehicle.id, public_key=DeviceKey.generate().public_key).id)
        for device_id in ids:
            mark_dirty(session.connection(), device_id=device_id, now_ns=1_000)
        session.commit()
    sources = [DirtyDevices(session_factory, shards=(3, [i])) for i in range(3)]
    taken = [{d.device_id for d in source.take(limit=100, now_ns=2_000)} for source in sources]
    assert [sorted(t) for t in taken] == [sorted(d for d in ids if d % 3 == i) for i in range(3)]
    assert set().union(*taken) == set(ids)
    assert [source.backlog(now_ns=2_000) for source in sources] == [len(t) for t in taken]
    everyone = DirtyDevices(session_factory)
    assert {d.device_id for d in everyone.take(limit=100, now_ns=2_000)} == set(ids)

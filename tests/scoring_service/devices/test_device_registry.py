"""Registering devices, on SQLite and PostgreSQL."""

from collections.abc import Callable

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from models import Device
from protocol import DeviceKey
from scoring_service.devices import (
    DeviceExistsError,
    InvalidPublicKeyError,
    UnknownVehicleError,
    register_device,
)


def test_device_is_registered_under_its_keys_address(
    session_factory: sessionmaker[Session], new_vehicle: Callable[[], int]
) -> None:
    key = DeviceKey.from_private_bytes(bytes(range(1, 33)))
    vehicle_id = new_vehicle()
    with session_factory() as session:
        device = register_device(session, vehicle_id=vehicle_id, public_key=key.public_key)
        session.commit()
    with session_factory() as session:
        stored = session.scalars(select(Device)).one()
    assert (stored.id, stored.neo_address, stored.public_key, stored.vehicle_id) == (
        device.id,
        key.address,
        key.public_key,
        vehicle_id,
    )
    assert (stored.last_seq, stored.pending_config) == (0, None)


INVALID_KEYS = {
    "empty": b"",
    "short": b"\x02" * 32,
    "uncompressed-prefix": b"\x04" + b"\x01" * 32,
    "not-on-curve": b"\x02" + b"\xff" * 32,
}


def test_invalid_key_is_refused(
    session_factory: sessionmaker[Session], new_vehicle: Callable[[], int], subtests: pytest.Subtests
) -> None:
    vehicle_id = new_vehicle()
    for name, public_key in INVALID_KEYS.items():
        with subtests.test(name), session_factory() as session:
            with pytest.raises(InvalidPublicKeyError) as caught:
                register_device(session, vehicle_id=vehicle_id, public_key=public_key)
            assert (caught.value.status_code, caught.value.field) == (422, "public_key")
    with session_factory() as session:
        assert session.scalars(select(Device)).all() == []


def test_unknown_vehicle_is_refused(session_factory: sessionmaker[Session]) -> None:
    with session_factory() as session, pytest.raises(UnknownVehicleError) as caught:
        register_device(session, vehicle_id=999, public_key=DeviceKey.generate().public_key)
    assert caught.value.status_code == 404


def test_second_registration_of_a_key_is_refused(
    session_factory: sessionmaker[Session], new_vehicle: Callable[[], int]
) -> None:
    key = DeviceKey.generate()
    with session_factory() as session:
        register_device(session, vehicle_id=new_vehicle(), public_key=key.public_key)
        session.commit()
    with session_factory() as session, pytest.raises(DeviceExistsError, match=key.address) as caught:
        register_device(session, vehicle_id=new_vehicle(), public_key=key.public_key)
    assert caught.value.status_code == 409
    with session_factory() as session:
        assert len(session.scalars(select(Device)).all()) == 1

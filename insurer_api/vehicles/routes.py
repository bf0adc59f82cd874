"""`/v1/vehicles`: drivers enrol cars by VIN and register each car's device key."""

import structlog
from fastapi import APIRouter, Response

from insurer_api.deps import CurrentUser, ObjectId, SessionDep, require_role
from insurer_api.errors import NotFoundError, PermissionDeniedError
from insurer_api.pagination import PageDep, respond
from insurer_api.vehicles._crud import create_vehicle, get_vehicle, list_devices, list_vehicles, register_device
from insurer_api.vehicles._schemas import DevicePublic, DeviceRegister, VehicleCreate, VehiclePublic
from models import Device, Role, Vehicle

__all__ = ["router"]

router = APIRouter(prefix="/v1/vehicles", tags=["vehicles"])
_log = structlog.get_logger(__name__)

_READERS = require_role(Role.ADMIN, Role.INSURER, Role.DRIVER)


def _device_public(device: Device) -> DevicePublic:
    return DevicePublic(
        id=device.id,
        vehicle_id=device.vehicle_id,
        neo_address=device.neo_address,
        public_key=device.public_key.hex(),
        last_seq=device.last_seq,
        created_at=device.created_at,
    )


@router.post(
    "",
    response_model=VehiclePublic,
    status_code=201,
    dependencies=[require_role(Role.DRIVER)],
    summary="Enrol one of your vehicles",
)
def post_vehicle(body: VehicleCreate, user: CurrentUser, session: SessionDep) -> VehiclePublic:
    if user.driver_id is None:
        raise PermissionDeniedError("only a driver's account enrols vehicles")
    vehicle = create_vehicle(session=session, driver_id=user.driver_id, data=body)
    session.commit()
    _log.info("vehicle enrolled", vehicle_id=vehicle.id, driver_id=user.driver_id)
    return VehiclePublic.model_validate(vehicle)


@router.get("", response_model=list[VehiclePublic], dependencies=[_READERS], summary="Vehicles you may see")
def get_vehicles(user: CurrentUser, session: SessionDep, page: PageDep, response: Response) -> list[VehiclePublic]:
    result = list_vehicles(session=session, viewer=user, page=page)
    return [VehiclePublic.model_validate(v) for v in respond(response, page, result)]


@router.get("/{vehicle_id}", response_model=VehiclePublic, dependencies=[_READERS], summary="One vehicle")
def get_one_vehicle(vehicle_id: ObjectId, user: CurrentUser, session: SessionDep) -> VehiclePublic:
    return VehiclePublic.model_validate(get_vehicle(session=session, viewer=user, vehicle_id=vehicle_id))


@router.post(
    "/{vehicle_id}/devices",
    response_model=DevicePublic,
    status_code=201,
    dependencies=[require_role(Role.DRIVER)],
    summary="Register the in-car device's public key",
)
def post_device(vehicle_id: ObjectId, body: DeviceRegister, user: CurrentUser, session: SessionDep) -> DevicePublic:
    """Only the vehicle's own driver may bind a device to it (others get 404)."""
    vehicle: Vehicle = get_vehicle(session=session, viewer=user, vehicle_id=vehicle_id)
    if vehicle.driver_id != user.driver_id:
        raise NotFoundError.of("vehicle", vehicle_id)
    device = register_device(session=session, vehicle=vehicle, public_key=bytes.fromhex(body.public_key))
    session.commit()
    _log.info("device registered", vehicle_id=vehicle.id, device=device.neo_address)
    return _device_public(device)


@router.get(
    "/{vehicle_id}/devices",
    response_model=list[DevicePublic],
    dependencies=[_READERS],
    summary="Devices of one vehicle",
)
def get_devices(
    vehicle_id: ObjectId, user: CurrentUser, session: SessionDep, page: PageDep, response: Response
) -> list[DevicePublic]:
    result = list_devices(session=session, viewer=user, vehicle_id=vehicle_id, page=page)
    return [_device_public(d) for d in respond(response, page, result)]

"""Vehicles (by VIN) and the in-car devices whose keys sign their uploads."""

from insurer_api.vehicles._crud import create_vehicle, get_vehicle, list_devices, list_vehicles, register_device
from insurer_api.vehicles._schemas import DevicePublic, DeviceRegister, VehicleCreate, VehiclePublic

__all__ = [
    "DevicePublic",
    "DeviceRegister",
    "VehicleCreate",
    "VehiclePublic",
    "create_vehicle",
    "get_vehicle",
    "list_devices",
    "list_vehicles",
    "register_device",
]

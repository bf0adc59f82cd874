"""Insurers, drivers and user accounts."""

from insurer_api.parties._crud import (
    create_account,
    create_insurer,
    get_driver,
    get_insurer,
    list_drivers,
    list_insurers,
    sign_up_driver,
)
from insurer_api.parties._schemas import DriverPublic, DriverSignup, InsurerCreate, InsurerPublic, UserCreate

__all__ = [
    "DriverPublic",
    "DriverSignup",
    "InsurerCreate",
    "InsurerPublic",
    "UserCreate",
    "create_account",
    "create_insurer",
    "get_driver",
    "get_insurer",
    "list_drivers",
    "list_insurers",
    "sign_up_driver",
]

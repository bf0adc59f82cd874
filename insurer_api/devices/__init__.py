"""Device management: health as the devices report it, and the Signals operators send them."""

from insurer_api.devices.routes import router

__all__ = ["router"]

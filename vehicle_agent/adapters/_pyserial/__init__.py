"""pyserial URL handlers that replace pyserial's own, registered by `register()`.

pyserial finds the handler of `scheme://` as `<package>.protocol_<scheme>` in the packages
listed in `serial.protocol_handler_packages`, first match wins; `register()` puts this package
first. Only `socket://` is replaced (see `protocol_socket`).
"""

__all__ = ["register"]


def register() -> None:
    """Make `serial.serial_for_url` use these handlers (idempotent)."""
    import serial

    if __name__ not in serial.protocol_handler_packages:
        serial.protocol_handler_packages.insert(0, __name__)

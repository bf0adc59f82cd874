"""`socket://host:port` for a Wi-Fi ELM327, closing its socket even when the peer is gone.

pyserial's `close()` calls `shutdown()` and `close()` in one `try`: after the adapter dropped
the connection `shutdown()` fails, the socket is never closed and leaks until garbage
collection. Every reconnect after a Wi-Fi drop would leak one descriptor.
"""

import contextlib
import socket

from serial.urlhandler.protocol_socket import Serial as _PyserialSocket

__all__ = ["Serial"]


class Serial(_PyserialSocket):  # type: ignore[misc]
    """pyserial's socket port with a `close()` that always closes the socket."""

    def close(self) -> None:
        sock: socket.socket | None = getattr(self, "_socket", None)
        if getattr(self, "is_open", False) and sock is not None:
            with contextlib.suppress(OSError):  # the peer may already have reset the connection
                sock.shutdown(socket.SHUT_RDWR)
            sock.close()
            self._socket = None
            self.is_open = False

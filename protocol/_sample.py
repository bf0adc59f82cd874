"""One merged reading of the car's sensors, and the fixed-point scale of each field on the wire.

Readings are floats in the units their names carry. On the wire every value is an integer:
`round(value * scale)`. The scales follow the sensors' own resolution (GPS ~1 cm, OBD rpm
0.25), so nothing a sensor reports is lost, and integers make the signed bytes unique and
compress well. A decoded value is `integer / scale`; encoding it again gives the same integer.
"""

import math
from typing import NamedTuple

from protocol._errors import EncodeError

__all__ = ["FIELDS", "MAX_WIRE_INT", "Sample", "quantise"]

#: Largest magnitude of any integer a sample puts on the wire (exact in IEEE doubles, so
#: JavaScript and other JSON readers keep it).
MAX_WIRE_INT = 2**53 - 1

#: Wire scale per optional field, in the order of `Sample`'s fields (after `time_ns`).
FIELDS: dict[str, int] = {
    "lat": 10_000_000,  # 1e-7 degree
    "lon": 10_000_000,
    "gps_speed_kmh": 100,
    "heading_deg": 100,
    "hdop": 100,
    "satellites": 1,
    "speed_kmh": 100,
    "rpm": 4,  # OBD-II PID 0C resolution
    "throttle_pct": 100,
    "engine_load_pct": 100,
    "coolant_c": 10,
    "fuel_pct": 100,
    "maf_gs": 100,
}


class Sample(NamedTuple):
    """One reading at `time_ns` (UTC, ns since the epoch). `None` means the source gave nothing:
    absent is never zero. `satellites` is a count; every other value is in the unit of its name.
    A named tuple because the server builds hundreds of thousands per second."""

    time_ns: int
    lat: float | None = None
    lon: float | None = None
    gps_speed_kmh: float | None = None
    heading_deg: float | None = None
    hdop: float | None = None
    satellites: int | None = None
    speed_kmh: float | None = None
    rpm: float | None = None
    throttle_pct: float | None = None
    engine_load_pct: float | None = None
    coolant_c: float | None = None
    fuel_pct: float | None = None
    maf_gs: float | None = None

    def quantised(self) -> "Sample":
        """This sample as it will read after a trip over the wire (values rounded to the scale)."""
        return Sample(self.time_ns, **{name: _dequantise(name, quantise(name, v)) for name, v in self._values()})  # type: ignore[arg-type]

    def present(self) -> dict[str, float | int]:
        """The fields that carry a value, `time_ns` included."""
        out: dict[str, float | int] = {"time_ns": self.time_ns}
        out.update({name: v for name, v in self._values() if v is not None})
        return out

    def _values(self) -> list[tuple[str, float | int | None]]:
        return [(name, getattr(self, name)) for name in FIELDS]


def quantise(name: str, value: float | None) -> int | None:
    """The wire integer for `value` of field `name`; `EncodeError` for NaN, infinity or overflow."""
    if value is None:
        return None
    if not math.isfinite(value):
        raise EncodeError(f"{name}: {value} is not a finite number")
    q = round(value * FIELDS[name])
    if abs(q) > MAX_WIRE_INT:
        raise EncodeError(f"{name}: {value} is out of range")
    return q


def _dequantise(name: str, q: int | None) -> float | int | None:
    if q is None:
        return None
    scale = FIELDS[name]
    return q if scale == 1 else q / scale

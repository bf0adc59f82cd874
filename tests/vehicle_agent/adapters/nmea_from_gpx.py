"""NMEA 0183 sentences made from the real GPX drive (positions and times are real; the sentence
framing, HDOP and satellite counts are synthetic)."""

import datetime as dt
from pathlib import Path

import pynmea2

from protocol import Sample, read_trip_gpx

GPX = Path(__file__).parents[2] / "fixtures" / "around-visnjan-with-car.gpx"
HDOP = 0.9
SATELLITES = 9


def gpx_fixes(n: int) -> list[Sample]:
    """The first `n` fixes of the real drive (speed and heading from consecutive points)."""
    return read_trip_gpx(GPX)[:n]


def _dm(value: float, width: int, pos: str, neg: str) -> tuple[str, str]:
    hemi = pos if value >= 0 else neg
    value = abs(value)
    degrees = int(value)
    return f"{degrees:0{width}d}{(value - degrees) * 60:07.4f}", hemi


def sentences(fixes: list[Sample], no_fix_s: int = 3) -> list[str]:
    """`no_fix_s` seconds without fix, then GGA + GSA + RMC per fix, the RMC of the second fix
    sent twice (a receiver repeating itself)."""
    out: list[str] = []
    first = dt.datetime.fromtimestamp(fixes[0].time_ns / 1e9, dt.UTC)
    for k in range(no_fix_s, 0, -1):
        t = first - dt.timedelta(seconds=k)
        hms = t.strftime("%H%M%S.00")
        out.append(str(pynmea2.GGA("GP", "GGA", (hms, "", "", "", "", "0", "00", "99.9", "", "M", "", "M", "", ""))))
        out.append(str(pynmea2.RMC("GP", "RMC", (hms, "V", "", "", "", "", "", "", t.strftime("%d%m%y"), "", ""))))
    for i, fix in enumerate(fixes):
        assert fix.lat is not None and fix.lon is not None
        t = dt.datetime.fromtimestamp(fix.time_ns / 1e9, dt.UTC)
        hms = t.strftime("%H%M%S.00")
        lat, ns = _dm(fix.lat, 2, "N", "S")
        lon, ew = _dm(fix.lon, 3, "E", "W")
        knots = f"{(fix.gps_speed_kmh or 0.0) / 1.852:.1f}"
        course = f"{fix.heading_deg or 0.0:.1f}"
        gga = (
            "GP",
            "GGA",
            (hms, lat, ns, lon, ew, "1", f"{SATELLITES:02d}", f"{HDOP}", "211.0", "M", "46.0", "M", "", ""),
        )
        gsa = (
            "GP",
            "GSA",
            ("A", "3", *[f"{p:02d}" for p in range(1, SATELLITES + 1)], "", "", "", "1.6", f"{HDOP}", "1.3"),
        )
        rmc = ("GP", "RMC", (hms, "A", lat, ns, lon, ew, knots, course, t.strftime("%d%m%y"), "", ""))
        out += [str(pynmea2.GGA(*gga)), str(pynmea2.GSA(*gsa)), str(pynmea2.RMC(*rmc))]
        if i == 1:
            out.append(str(pynmea2.RMC(*rmc)))
    return out

"""Recorded trip files, read the same way by the agent's replay and `neot score-file`: the trip CSV
format, the real GPX drive, GPX with recorded speed and course (1.0 and Garmin's extension), and
refusals that name file and line."""

import io
import itertools
import subprocess
import sys
from pathlib import Path

import pytest

from protocol import (
    TRIP_CSV_COLUMNS,
    Sample,
    TripCsvWriter,
    TripFileError,
    read_trip_csv,
    read_trip_file,
    read_trip_gpx,
)

GPX = Path(__file__).parents[1] / "fixtures" / "around-visnjan-with-car.gpx"
HEADER = ",".join(TRIP_CSV_COLUMNS)


def write(tmp_path: Path, text: str, name: str = "trip.csv") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_the_real_gpx_drive_reads_as_timed_fixes() -> None:
    trip = read_trip_file(GPX)
    assert len(trip) == 104
    assert trip[0].time_ns == 1608272150_000_000_000  # 2020-12-18T06:15:50Z
    assert (trip[0].lat, trip[0].lon) == (45.273518851, 13.7142099626)
    assert trip[0].gps_speed_kmh is None  # no previous point: no speed, not zero
    assert all(b.time_ns > a.time_ns for a, b in itertools.pairwise(trip))
    speeds = [s.gps_speed_kmh for s in trip[1:]]
    assert all(v is not None and 0 <= v < 120 for v in speeds)
    assert all(s.heading_deg is not None and 0 <= s.heading_deg < 360 for s in trip[1:])
    assert (trip[0].speed_kmh, trip[0].rpm) == (None, None)  # a GPS has no OBD values


def test_csv_written_by_record_reads_back(tmp_path: Path) -> None:
    samples = [
        Sample(1608272150_000_000_000, lat=45.2735189, lon=13.71421, speed_kmh=12.5, rpm=1500.25, coolant_c=88.0),
        Sample(1608272151_250_000_000, lat=45.2735, lon=13.7142, gps_speed_kmh=13.0, heading_deg=181.5),
        Sample(1608272152_000_000_000, speed_kmh=14.0, throttle_pct=23.14, engine_load_pct=40.0, fuel_pct=61.96),
    ]
    out = io.StringIO()
    TripCsvWriter(out).write_all(samples)
    lines = out.getvalue().splitlines()
    assert lines[0] == HEADER
    assert lines[1] == "2020-12-18T06:15:50.000000+00:00,45.2735189,13.71421,12.5,,1500.25,,,88,"
    back = read_trip_csv(write(tmp_path, out.getvalue()))
    assert back[0] == samples[0]
    # The CSV has one speed column: the OBD speed, else the GPS speed; it replays as speed_kmh.
    assert back[1] == Sample(1608272151_250_000_000, lat=45.2735, lon=13.7142, speed_kmh=13.0, heading_deg=181.5)
    assert back[2] == samples[2]


def test_csv_minimal_columns_any_order_and_absent_values(tmp_path: Path) -> None:
    path = write(tmp_path, "speed_kmh,lon,lat,time\n50,13.7,45.2,2020-12-18T07:15:50+01:00\n,,,2020-12-18T06:15:51Z\n")
    assert read_trip_csv(path) == [
        Sample(1608272150_000_000_000, lat=45.2, lon=13.7, speed_kmh=50.0),
        Sample(1608272151_000_000_000),  # a second without fix and without OBD: all absent
    ]


def test_csv_nan_is_no_reading_and_rows_going_back_in_time_are_dropped(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        f"{HEADER}\n"
        "2020-12-18T06:15:50Z,45.2,13.7,nan,,inf,,,,\n"
        "2020-12-18T06:15:50Z,45.3,13.8,10,,,,,,\n"
        "2020-12-18T06:15:49Z,45.3,13.8,10,,,,,,\n"
        "2020-12-18T06:15:51Z,45.4,13.9,11,,,,,,\n",
    )
    trip = read_trip_csv(path)
    assert [s.lat for s in trip] == [45.2, 45.4]
    assert trip[0].speed_kmh is None and trip[0].rpm is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty file"),
        ("time,lat,lon\n", r"missing \['speed_kmh'\]"),
        ("time,lat,lon,speed_kmh,gear\n", r"unknown \['gear'\]"),
        ("time,lat,lon,speed_kmh\n2020-12-18T06:15:50,45,13,10\n", ":2: time .* has no zone"),
        ("time,lat,lon,speed_kmh\nyesterday,45,13,10\n", ":2: time 'yesterday' is not ISO 8601"),
        ("time,lat,lon,speed_kmh\n2020-12-18T06:15:50Z,45,13,10\n2020-12-18T06:15:51Z,45,13,fast\n", ":3: speed_kmh"),
        ("time,lat,lon,speed_kmh\n2020-12-18T06:15:50Z,95,13,10\n", r":2: lat 95.0 outside -90..90"),
        ("time,lat,lon,speed_kmh\n2020-12-18T06:15:50Z,45,13\n", ":2: 3 values for 4 columns"),
    ],
)
def test_bad_csv_is_refused_with_file_and_line(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(TripFileError, match=message) as info:
        read_trip_csv(path)
    assert str(path) in str(info.value)


def test_bad_trip_files_are_refused(tmp_path: Path) -> None:
    with pytest.raises(TripFileError, match="cannot read"):
        read_trip_file(tmp_path / "missing.csv")
    with pytest.raises(TripFileError, match="unknown trip file type"):
        read_trip_file(write(tmp_path, "x", "trip.kml"))
    with pytest.raises(TripFileError, match="not a readable GPX"):
        read_trip_file(write(tmp_path, "<gpx><trk>", "broken.gpx"))
    untimed = '<gpx version="1.1"><trk><trkseg><trkpt lat="45" lon="13"/></trkseg></trk></gpx>'
    with pytest.raises(TripFileError, match="no track points with a time"):
        read_trip_file(write(tmp_path, untimed, "untimed.gpx"))
    latin1 = tmp_path / "latin1.csv"
    latin1.write_bytes("time,lat,lon,speed_kmh\nMünchen\n".encode("latin-1"))
    with pytest.raises(TripFileError, match="not UTF-8"):
        read_trip_csv(latin1)


GPX_10 = """<?xml version="1.0"?>
<gpx version="1.0" xmlns="http://www.topografix.com/GPX/1/0"><trk><trkseg>
<trkpt lat="60.1700" lon="24.9400"><time>2024-05-01T08:00:00Z</time><speed>10.0</speed><course>90.5</course></trkpt>
<trkpt lat="60.1700" lon="24.9402"><time>2024-05-01T08:00:01</time><speed>12.5</speed><course>91</course></trkpt>
<trkpt lat="60.1700" lon="24.9404"><time>2024-05-01T08:00:01Z</time><speed>99</speed></trkpt>
</trkseg></trk></gpx>"""

GARMIN = """<?xml version="1.0"?>
<gpx version="1.1" xmlns="http://www.topografix.com/GPX/1/1"
     xmlns:gpxtpx="http://www.garmin.com/xmlschemas/TrackPointExtension/v2"><trk><trkseg>
<trkpt lat="45.0" lon="13.0"><time>2024-05-01T08:00:00Z</time>
  <extensions><gpxtpx:TrackPointExtension><gpxtpx:speed>5.0</gpxtpx:speed></gpxtpx:TrackPointExtension></extensions>
</trkpt>
<trkpt lat="45.0001" lon="13.0"><time>2024-05-01T08:00:02Z</time></trkpt>
</trkseg></trk></gpx>"""


def test_recorded_gpx_speed_and_course_win_over_derived_ones(tmp_path: Path) -> None:
    first, second = read_trip_gpx(write(tmp_path, GPX_10, "v10.gpx"))  # the third goes back in time: dropped
    assert (first.gps_speed_kmh, first.heading_deg) == (36.0, 90.5)  # 10 m/s as recorded, not derived
    assert (second.gps_speed_kmh, second.heading_deg) == (45.0, 91.0)
    assert second.time_ns - first.time_ns == 1_000_000_000  # a time without a zone is UTC, as GPX says


def test_an_extension_speed_is_used_and_a_missing_one_is_derived_from_positions(tmp_path: Path) -> None:
    first, second = read_trip_gpx(write(tmp_path, GARMIN, "garmin.gpx"))
    assert first.gps_speed_kmh == 18.0 and first.heading_deg is None  # 5 m/s; no course, no previous point
    assert second.gps_speed_kmh == pytest.approx(11.12 / 2 * 3.6, rel=1e-3)  # 11.12 m north in 2 s
    assert second.heading_deg == pytest.approx(0.0, abs=1e-6)


def test_reading_gpx_needs_no_third_party_parser() -> None:
    code = (
        "import sys; from pathlib import Path; import protocol;"
        f"assert len(protocol.read_trip_gpx(Path({str(GPX)!r}))) == 104;"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in {'gpxpy', 'lxml', 'defusedxml'}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"

"""Uplink cost and decode speed of the batch wire format, against naive row-wise JSON measured
in the same run.

Data: a 10 Hz drive: GPS fixes once a second from the recorded GPX drive in
`tests/fixtures/around-visnjan-with-car.gpx` (with ±2 ms of clock jitter, at the sampler's millisecond resolution), OBD
speed/rpm/throttle/load/coolant/fuel/MAF every sample, generated smoothly with noise (synthetic:
no real OBD time series is available). Batches of 300 samples (30 s) and 3000 (5 min).

Figures: wire bytes per sample (gzip) for our format vs row-wise JSON of the same values
(gzip), and decode + signature verification throughput (samples/s) vs `json.loads` of the
row-wise body with no verification at all.
Run: `.venv/bin/python benchmarks/protocol_wire.py`.
"""

import gzip
import json
import math
import random
import time
import xml.etree.ElementTree as ET
from datetime import datetime
from pathlib import Path

from protocol import Batch, DeviceKey, Sample, decode_signed_batch, gzip_body, sign_batch

GPX = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "around-visnjan-with-car.gpx"


def drive(n: int) -> list[Sample]:
    ns = {"g": "http://www.topografix.com/GPX/1/1"}
    points = [
        (float(p.get("lat", 0)), float(p.get("lon", 0)), datetime.fromisoformat(p.findtext("g:time", "", ns)))
        for p in ET.parse(GPX).getroot().iterfind(".//g:trkpt", ns)
    ]
    rng = random.Random(7)
    t0 = int(points[0][2].timestamp() * 1e9)
    out: list[Sample] = []
    speed = 30.0
    for i in range(n):
        # a real clock's jitter, at the millisecond resolution the agent's sampler records
        t = (t0 + i * 100_000_000 + rng.randint(-2_000_000, 2_000_000)) // 1_000_000 * 1_000_000
        speed = max(0.0, speed + rng.gauss(0, 0.8))
        obd = {
            "speed_kmh": round(speed), "rpm": 800 + speed * 35 + rng.gauss(0, 20), "throttle_pct": 10 + speed / 5,
            "engine_load_pct": 20 + 10 * math.sin(i / 50), "coolant_c": 88.0, "fuel_pct": 61.2 - i / 10_000,
            "maf_gs": 2 + speed / 20,
        }  # fmt: skip
        gps = {}
        if i % 10 == 0:
            lat, lon, _ = points[(i // 10) % len(points)]
            gps = {"lat": lat, "lon": lon, "gps_speed_kmh": speed + rng.gauss(0, 0.5),
                   "heading_deg": rng.uniform(0, 360), "hdop": 0.9, "satellites": 9}  # fmt: skip
        out.append(Sample(t, **gps, **obd).quantised())  # type: ignore[arg-type]
    return out


def naive_body(samples: list[Sample]) -> bytes:
    return json.dumps({"seq": 1, "samples": [s.present() for s in samples], "sig": "00" * 64}).encode()


def main() -> None:
    key = DeviceKey.from_private_bytes(bytes(range(1, 33)))
    print(f"{'batch':>6} {'ours B/sample':>14} {'naive B/sample':>15} {'ratio':>6}")
    for size in (300, 3000):
        samples = drive(size)
        ours = gzip_body(sign_batch(Batch(key.address, 1, tuple(samples), "0.1.0", key.public_key), key).to_wire())
        naive = gzip.compress(naive_body(samples), 9)
        print(f"{size:>6} {len(ours) / size:>14.1f} {len(naive) / size:>15.1f} {len(naive) / len(ours):>5.1f}x")

    samples = drive(600)
    body = gzip_body(sign_batch(Batch(key.address, 1, tuple(samples), "0.1.0", key.public_key), key).to_wire())
    naive = gzip.compress(naive_body(samples))
    rounds = 200
    t = time.perf_counter()
    for _ in range(rounds):
        decode_signed_batch(body, content_encoding="gzip")
    ours_rate = rounds * 600 / (time.perf_counter() - t)
    t = time.perf_counter()
    for _ in range(rounds):
        [Sample(**d) for d in json.loads(gzip.decompress(naive))["samples"]]
    naive_rate = rounds * 600 / (time.perf_counter() - t)
    print(f"decode+verify: {ours_rate:,.0f} samples/s; naive json (no verify): {naive_rate:,.0f} samples/s; "
          f"ratio {ours_rate / naive_rate:.2f}")  # fmt: skip


if __name__ == "__main__":
    main()

"""Footprint of the in-car agent: `python -m vehicle_agent run` (what `neot agent run` is on a box
with only the agent extra) at 10 Hz against the ELM327 emulator for 60 s,
uploading to a local HTTP ingest server, versus a bare python-obd loop reading the same PIDs at
the same rate against the same emulator, measured in the same run.

Figures: resident memory (RSS, peak) and CPU share of one core of each process over the measured
window (after a warm-up that covers connecting), their ratios, and samples taken per second.
Targets: agent RSS < 60 MB, CPU < 5 % of a core.
Run: `.venv/bin/python benchmarks/agent_footprint.py [--seconds 60] [--delay 0]`.
"""

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from demo.emulated_car import EmulatedCar  # noqa: E402
from tests.vehicle_agent.ingest_server import IngestServer  # noqa: E402
from vehicle_agent import Buffer, create_key_file  # noqa: E402
from vehicle_agent.adapters import DEFAULT_PIDS  # noqa: E402

_TICK = os.sysconf("SC_CLK_TCK")

BARE_LOOP = """
import sys, time, obd
obd.logger.setLevel("CRITICAL")
conn = obd.OBD(sys.argv[1], baudrate=38400, protocol="6", fast=False)
if not conn.is_connected():
    sys.exit("bare loop: no connection to the emulator")
cmds = [obd.commands[p] for p in sys.argv[2].split(",")]
period = 0.1
nxt = time.monotonic()
while True:
    for c in cmds:
        conn.query(c)
    nxt += period
    time.sleep(max(0.0, nxt - time.monotonic()))
"""


def cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / _TICK  # utime + stime


def memory_mb(pid: int) -> tuple[float, float]:
    status = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return int(status["VmRSS"].split()[0]) / 1024, int(status["VmHWM"].split()[0]) / 1024


def taken(work: Path) -> int:
    path = work / "buffer.sqlite3"
    if not path.exists():
        return 0
    with Buffer(path, read_only=True) as buf:
        return buf.stats().taken_samples


def measure(
    proc: subprocess.Popen[bytes], warmup_s: float, seconds: float, count: Callable[[], int] = lambda: 0
) -> tuple[float, float, float, float]:
    """(RSS MB, peak RSS MB, CPU share, `count()` per second) of `proc` over `seconds` after `warmup_s`."""
    time.sleep(warmup_s)
    if proc.poll() is not None:
        raise SystemExit(f"process exited early with {proc.returncode} (see its log)")
    c0, n0, t0 = cpu_s(proc.pid), count(), time.monotonic()
    time.sleep(seconds)
    c1, n1, t1 = cpu_s(proc.pid), count(), time.monotonic()
    rss, peak = memory_mb(proc.pid)
    return rss, peak, (c1 - c0) / (t1 - t0), (n1 - n0) / (t1 - t0)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--warmup", type=float, default=8.0)
    parser.add_argument("--delay", type=float, default=0.0, help="emulator per-reply delay (real adapter ≈ 0.02)")
    args = parser.parse_args()
    pids = ",".join(DEFAULT_PIDS)

    with tempfile.TemporaryDirectory() as tmp, IngestServer() as ingest:
        work = Path(tmp)
        with EmulatedCar.start("average", "tcp", delay_s=args.delay) as car:
            create_key_file(work / "device.key")
            (work / "agent.toml").write_text(
                f'[agent]\nsample_rate_hz = 10\nupload_interval_s = 10\n\n[server]\nurl = "{ingest.url}"\n\n'
                f'[[adapters]]\nkind = "obd"\nport = "{car.url}"\nprotocol = "6"\n'
            )
            env = {**os.environ, "NEOT_LOG_LEVEL": "WARNING"}
            log = (work / "agent.log").open("wb")
            agent = subprocess.Popen(
                [sys.executable, "-m", "vehicle_agent", "run", "-c", "agent.toml"],
                cwd=work, env=env, stdout=subprocess.DEVNULL, stderr=log,
            )  # fmt: skip
            try:
                a_rss, a_peak, a_cpu, rate = measure(agent, args.warmup, args.seconds, lambda: taken(work))
            finally:
                agent.terminate()
                agent.wait(30)
                log.close()
        with EmulatedCar.start("average", "tcp", delay_s=args.delay) as car:
            bare = subprocess.Popen([sys.executable, "-c", BARE_LOOP, car.url, pids])
            try:
                b_rss, b_peak, b_cpu, _ = measure(bare, args.warmup, args.seconds)
            finally:
                bare.kill()
                bare.wait()
    print(f"agent: RSS {a_rss:.1f} MB (peak {a_peak:.1f}), CPU {a_cpu:.1%} of a core, "
          f"{rate:.1f} samples/s taken, {len(ingest.batches)} batches acked")  # fmt: skip
    print(f"bare python-obd loop: RSS {b_rss:.1f} MB (peak {b_peak:.1f}), CPU {b_cpu:.1%} of a core")
    print(f"ratio agent/bare: RSS {a_rss / b_rss:.2f}, CPU {a_cpu / max(b_cpu, 1e-9):.2f}")
    print(f"targets: RSS < 60 MB {'met' if a_peak < 60 else 'MISSED'}, CPU < 5 % {'met' if a_cpu < 0.05 else 'MISSED'}")


if __name__ == "__main__":
    main()

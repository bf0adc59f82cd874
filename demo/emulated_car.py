"""A scripted car behind a real ELM327 adapter emulator, for tests, benchmarks and the demo.

ELM327-emulator is licensed CC BY-NC-SA, so it is a development tool only (the `dev` extra): the
emulator is imported only by the child process that `EmulatedCar` starts (this file run as a
script), and no product package imports this module. The parent side below imports
nothing of it, so a demo or a benchmark can drive cars without loading non-commercial code.

A car follows a `DriveProfile`: a looping, time-based speed trace from which rpm, throttle,
engine load, MAF, coolant and fuel level are derived deterministically. The values are
synthetic (no real OBD-II time series is available to ship); they are shaped like the three
driving styles the demo needs (`calm`, `average`, `aggressive`).

Control goes over the child's stdin/stdout, one line per command and one line per answer:
raise, list and clear trouble codes, switch the ignition, corrupt the serial line, add a
per-reply delay, drop the TCP client, count the queries served. The `aggressive` profile also
raises P0301 (misfire) by itself 60 s into its drive; an OBD mode 04 request (the adapter's
`ClearDtcs` signal) clears it, as a repair shop would.

    with EmulatedCar.start(profile="aggressive", transport="tcp") as car:
        obd.OBD(car.url, protocol="6", fast=False)
        car.raise_dtc("P0301")
"""

from __future__ import annotations

import math
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Literal, Self

__all__ = ["PROFILES", "DriveProfile", "EmulatedCar", "EmulatorError", "profile_values"]

type Transport = Literal["tcp", "pty"]

#: The VIN the emulated cars report unless told otherwise. It starts with "1" on purpose:
#: python-obd's own VIN decoder drops leading 0/1/2 characters.
DEFAULT_VIN = "1HGCM82633A004352"


class EmulatorError(RuntimeError):
    """The emulator process did not start, or did not answer a control command."""


@dataclass(frozen=True, slots=True)
class DriveProfile:
    """A looping speed trace: `(t_s, speed_kmh)` knots, linear in between; the last knot's time
    is the loop length. `rpm_factor` stretches engine speed (late gear changes)."""

    name: str
    knots: tuple[tuple[float, float], ...]
    rpm_factor: float = 1.0
    #: Stored trouble codes that appear on their own, `(t_s, code)`, once per emulator run.
    dtc_schedule: tuple[tuple[float, str], ...] = ()

    def speed_kmh(self, t_s: float) -> float:
        period = self.knots[-1][0]
        t = t_s % period
        for (t0, v0), (t1, v1) in zip(self.knots, self.knots[1:], strict=False):
            if t0 <= t <= t1:
                return v0 + (v1 - v0) * (t - t0) / (t1 - t0) if t1 > t0 else v1
        return self.knots[-1][1]


# Accelerations of the knots: calm ≈ 1 m/s², average ≈ 2 m/s², aggressive ≥ 3.5 m/s² with
# braking ≈ 5.5 m/s² and a stretch over 110 km/h.
PROFILES: dict[str, DriveProfile] = {
    "calm": DriveProfile(
        "calm",
        ((0, 0), (12, 40), (50, 45), (62, 45), (75, 0), (85, 0), (100, 50), (150, 50), (165, 0), (180, 0)),
    ),
    "average": DriveProfile(
        "average",
        ((0, 0), (8, 55), (40, 60), (48, 30), (60, 30), (68, 0), (75, 0), (90, 80), (140, 80), (152, 0), (160, 0)),
        rpm_factor=1.1,
    ),
    "aggressive": DriveProfile(
        "aggressive",
        ((0, 0), (7, 90), (25, 95), (30, 0), (35, 0), (45, 125), (90, 125), (96, 10), (100, 60), (108, 0), (112, 0)),
        rpm_factor=1.35,
        dtc_schedule=((60.0, "P0301"),),
    ),
}


def profile_values(profile: DriveProfile, t_s: float) -> dict[str, float]:
    """Every value the car reports at `t_s`, in the units of the names (SI-ish, as the agent)."""
    v = profile.speed_kmh(t_s)
    accel_ms2 = (profile.speed_kmh(t_s + 0.5) - profile.speed_kmh(t_s - 0.5)) / 3.6
    gear_ratio = 110 if v < 15 else 65 if v < 30 else 45 if v < 50 else 35 if v < 70 else 28
    rpm = max(800.0, v * gear_ratio * profile.rpm_factor)
    throttle = 0.0 if accel_ms2 < -0.2 else min(100.0, 12.0 + max(0.0, accel_ms2) * 22.0 + v * 0.1)
    load = 15.0 + 0.8 * throttle
    return {
        "speed_kmh": v,
        "rpm": rpm,
        "throttle_pct": throttle,
        "engine_load_pct": load,
        "maf_gs": 2.0 + rpm * load / 100.0 / 60.0 * 1.2,
        "coolant_c": 20.0 + 70.0 * (1.0 - math.exp(-t_s / 120.0)),
        "fuel_pct": max(5.0, 62.0 - t_s * 0.002),
    }


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class EmulatedCar:
    """A running emulator process: `url` is what python-obd (or the agent's config) connects to.

    Start with `EmulatedCar.start(...)`; stop with `stop()` or a `with` block. `restart()` kills
    the process and starts a fresh one on the same TCP port (the adapter "comes back")."""

    profile: str
    transport: Transport
    url: str
    port: int | None
    time_scale: float
    start_s: float
    vin: str
    delay_s: float
    log_path: Path | None
    _proc: subprocess.Popen[str] = field(repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def start(
        cls,
        profile: str = "average",
        transport: Transport = "tcp",
        *,
        port: int | None = None,
        time_scale: float = 1.0,
        start_s: float = 0.0,
        vin: str = DEFAULT_VIN,
        delay_s: float = 0.0,
        log_path: Path | None = None,
        startup_timeout_s: float = 15.0,
    ) -> EmulatedCar:
        """Launch the emulator; returns once it accepts connections. Drive time starts at
        `start_s` and runs `time_scale` times as fast as the wall clock (0 freezes the car at
        `start_s`: every reply is then known exactly); `delay_s` is the per-reply delay of a
        real adapter (≈ 0.02 s)."""
        if profile not in PROFILES:
            raise EmulatorError(f"unknown profile {profile!r}; known: {', '.join(PROFILES)}")
        if transport == "tcp" and port is None:
            port = _free_port()
        args = [
            sys.executable, "-u", str(Path(__file__).resolve()),
            "--profile", profile, "--transport", transport, "--time-scale", str(time_scale), "--start-s", str(start_s),
            "--vin", vin, "--delay", str(delay_s),
        ]  # fmt: skip
        if port is not None:
            args += ["--port", str(port)]
        stderr = open(log_path, "a") if log_path else subprocess.DEVNULL  # noqa: SIM115
        try:
            proc = subprocess.Popen(
                args, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr, text=True,
                bufsize=1, start_new_session=True,
            )  # fmt: skip
        finally:
            if log_path:
                stderr.close()  # type: ignore[union-attr]
        url = _read_line_with_timeout(proc, startup_timeout_s)
        if not url or not url.startswith("READY "):
            proc.kill()
            proc.wait()
            raise EmulatorError(f"emulator did not start (said {url!r}); see {log_path or 'its stderr'}")
        return cls(
            profile, transport, url.removeprefix("READY ").strip(), port, time_scale, start_s, vin, delay_s,
            log_path, proc,
        )  # fmt: skip

    # --- control -------------------------------------------------------------------------
    def command(self, line: str, timeout_s: float = 5.0) -> str:
        """Send one control line and return the child's one-line answer."""
        with self._lock:
            if self._proc.poll() is not None or self._proc.stdin is None:
                raise EmulatorError("emulator is not running")
            self._proc.stdin.write(line + "\n")
            self._proc.stdin.flush()
            answer = _read_line_with_timeout(self._proc, timeout_s)
        if answer is None or answer.startswith("error"):
            raise EmulatorError(f"{line!r}: {answer!r}")
        return answer.strip()

    def raise_dtc(self, code: str) -> None:
        """Store a trouble code (e.g. `P0301`); the MIL lights and mode 03 reports it."""
        self.command(f"dtc {code}")

    def dtcs(self) -> list[str]:
        """The stored trouble codes right now (empty after a mode 04 clear)."""
        answer = self.command("dtcs").removeprefix("dtcs").strip()
        return answer.split(",") if answer else []

    def clear_dtcs(self) -> None:
        """Clear the stored codes from the car's side (a workshop's own scan tool)."""
        self.command("clear")

    def ignition(self, on: bool) -> None:
        """Ignition off: the adapter still answers AT commands, the car answers nothing."""
        self.command(f"ignition {'on' if on else 'off'}")

    def garbage(self, replies: int) -> None:
        """Corrupt the next `replies` OBD replies with line noise (binary junk, torn frames)."""
        self.command(f"garbage {replies}")

    def set_delay(self, delay_s: float) -> None:
        """Per-reply delay, as a real adapter and car bus take (≈ 20 ms)."""
        self.command(f"delay {delay_s}")

    def drop_client(self) -> None:
        """Close the current TCP client connection (a Wi-Fi adapter dropping out)."""
        self.command("drop")

    def queries(self) -> int:
        """OBD requests (not AT commands) answered since start."""
        return int(self.command("queries").split()[1])

    def values_at(self, t_s: float) -> dict[str, float]:
        """What the car reports `t_s` seconds of drive time into its run."""
        return profile_values(PROFILES[self.profile], t_s)

    # --- lifecycle -----------------------------------------------------------------------
    @property
    def pid(self) -> int:
        return self._proc.pid

    def stop(self) -> None:
        """Kill the emulator (like pulling the adapter out of the OBD port)."""
        if self._proc.poll() is None:
            self._proc.kill()
        self._proc.wait()
        for stream in (self._proc.stdin, self._proc.stdout):
            if stream is not None:
                stream.close()

    def restart(self) -> None:
        """Kill and start again; TCP keeps its port, a pty gets a new path (see `url`)."""
        self.stop()
        fresh = EmulatedCar.start(
            self.profile, self.transport, port=self.port, time_scale=self.time_scale, start_s=self.start_s,
            vin=self.vin,
            delay_s=self.delay_s, log_path=self.log_path,
        )  # fmt: skip
        self.url, self._proc = fresh.url, fresh._proc

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def _read_line_with_timeout(proc: subprocess.Popen[str], timeout_s: float) -> str | None:
    """One stdout line, or None if the child says nothing in time (then it is killed)."""
    out: list[str] = []
    reader = threading.Thread(target=lambda: out.append(proc.stdout.readline() if proc.stdout else ""))
    reader.daemon = True
    reader.start()
    reader.join(timeout_s)
    if reader.is_alive():
        proc.kill()
        return None
    return out[0] or None


# ======================================================================================
# Child process: everything below runs inside the emulator process only.
# ======================================================================================

_GARBAGE = (
    b"\x00\xff\xfe\x1b[?\x07SEARCHING...\r",
    b"7E8 03 41\r",  # a torn frame
    b"\xc3\x28BUS ERROR\r7E8 10 14 49\r",
    b"7E8 03 41 99 00\r",  # a reply for a PID nobody asked for (a desynchronised line)
    b"?\r",
)


def _child_main(argv: list[str]) -> int:  # pragma: no cover - runs in the emulator process
    import argparse
    import logging

    import elm.elm as elm_module
    from elm import Elm
    from elm.obd_message import ELM_FOOTER, ST, ObdMessage

    parser = argparse.ArgumentParser()
    parser.add_argument("--profile", required=True, choices=sorted(PROFILES))
    parser.add_argument("--transport", required=True, choices=["tcp", "pty"])
    parser.add_argument("--port", type=int)
    parser.add_argument("--time-scale", type=float, default=1.0)
    parser.add_argument("--start-s", type=float, default=0.0)
    parser.add_argument("--vin", default=DEFAULT_VIN)
    parser.add_argument("--delay", type=float, default=0.0)
    args = parser.parse_args(argv)

    # The emulator configures logging for itself (a DEBUG file in the working directory);
    # keep it to warnings on stderr instead.
    elm_module.setup_logging = lambda *a, **k: None
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)

    profile = PROFILES[args.profile]
    t0 = time.monotonic()
    state: dict[str, object] = {"ignition": True, "garbage": 0, "queries": 0}
    stored: list[str] = []
    scheduled = list(profile.dtc_schedule)

    def drive_t() -> float:
        return float(args.start_s) + (time.monotonic() - t0) * float(args.time_scale)

    def due_dtcs() -> None:
        while scheduled and scheduled[0][0] <= drive_t():
            code = scheduled.pop(0)[1]
            if code not in stored:
                stored.append(code)

    def frame(data: list[int]) -> str:
        """An ISO 15765 (CAN 11-bit) answer from the engine ECU, headers on."""
        hexes = [f"{b:02X}" for b in data]
        if len(hexes) <= 7:
            return f"<header>7E8</header><size>{len(hexes):02X}</size><data>{' '.join(hexes)}</data>"
        out = [f"<header>7E8</header><size>1{len(hexes) >> 8:X}</size><data>{len(hexes) & 0xFF:02X} "
               f"{' '.join(hexes[:6])}</data>"]  # fmt: skip
        rest, seq = hexes[6:], 1
        while rest:
            chunk = (rest[:7] + ["00"] * 7)[:7]
            out.append(f"<header>7E8</header><size>2{seq & 0xF:X}</size><data>{' '.join(chunk)}</data>")
            rest, seq = rest[7:], seq + 1
        return "".join(out)

    def dtc_bytes(code: str) -> list[int]:
        kind = "PCBU".index(code[0])
        raw = int(code[1:], 16)
        return [(kind << 6) | (raw >> 8), raw & 0xFF]

    def answer(build: Callable[[dict[str, float]], list[int]]) -> Callable[..., str]:
        def footer(_emu: object, _cmd: str, _pid: str, _uc: object) -> str:
            state["queries"] = int(state["queries"]) + 1  # type: ignore[call-overload]
            if not state["ignition"]:
                return str(ST("UNABLE TO CONNECT"))
            due_dtcs()
            return frame(build(profile_values(profile, drive_t())))

        return footer

    def pct(x: float) -> int:
        return max(0, min(255, round(x * 255 / 100)))

    def bitmap(base: int, pids: list[int]) -> list[int]:
        return list(sum(1 << (32 - (p - base)) for p in pids).to_bytes(4, "big"))

    rows: dict[str, tuple[str, Callable[[dict[str, float]], list[int]]]] = {
        "PIDS_A": ("0100", lambda v: [0x41, 0x00, *bitmap(0, [0x01, 0x04, 0x05, 0x0C, 0x0D, 0x10, 0x11, 0x20])]),
        "PIDS_B": ("0120", lambda v: [0x41, 0x20, *bitmap(0x20, [0x2F])]),
        "STATUS": ("0101", lambda v: [0x41, 0x01, (0x80 | len(stored)) if stored else 0, 0x07, 0x65, 0x04]),
        "ENGINE_LOAD": ("0104", lambda v: [0x41, 0x04, pct(v["engine_load_pct"])]),
        "COOLANT_TEMP": ("0105", lambda v: [0x41, 0x05, round(v["coolant_c"]) + 40]),
        "RPM": ("010C", lambda v: [0x41, 0x0C, *round(v["rpm"] * 4).to_bytes(2, "big")]),
        "SPEED": ("010D", lambda v: [0x41, 0x0D, min(255, round(v["speed_kmh"]))]),
        "MAF": ("0110", lambda v: [0x41, 0x10, *round(v["maf_gs"] * 100).to_bytes(2, "big")]),
        "THROTTLE_POS": ("0111", lambda v: [0x41, 0x11, pct(v["throttle_pct"])]),
        "FUEL_LEVEL": ("012F", lambda v: [0x41, 0x2F, pct(v["fuel_pct"])]),
        "GET_DTC": ("03", lambda v: [0x43, len(stored), *(b for c in stored for b in dtc_bytes(c))]),
        "PIDS_9A": ("0900", lambda v: [0x49, 0x00, 0x40, 0x00, 0x00, 0x00]),
        "VIN": ("0902", lambda v: [0x49, 0x02, 0x01, *args.vin.encode("ascii")]),
    }

    def clear(v: dict[str, float]) -> list[int]:
        stored.clear()
        return [0x44]

    rows["CLEAR_DTC"] = ("04", clear)
    scenario = {
        name: {"Request": f"^{req}" + ELM_FOOTER, "Descr": name, "ResponseFooter": answer(build)}
        for name, (req, build) in rows.items()
    }

    class ScriptedElm(Elm):  # type: ignore[misc]
        """The emulator with a noisy line on demand."""

        def write_to_device(self, i: bytes) -> None:
            left = int(state["garbage"])  # type: ignore[call-overload]
            if left > 0 and i.rstrip().endswith(b">") and b"OK" not in i:
                state["garbage"] = left - 1
                i = _GARBAGE[left % len(_GARBAGE)] + b"\r>"
            super().write_to_device(i)

    emulator = ScriptedElm(net_port=args.port if args.transport == "tcp" else None)
    emulator.ObdMessage = {"AT": ObdMessage["AT"], "default": {}, "neot": scenario}
    emulator.set_sorted_obd_msg("neot")
    emulator.delay = args.delay
    with emulator:
        deadline = time.monotonic() + 10
        while emulator.threadState != Elm.THREAD.ACTIVE and time.monotonic() < deadline:
            time.sleep(0.01)
        url = f"socket://127.0.0.1:{args.port}" if args.transport == "tcp" else str(emulator.get_pty())
        print(f"READY {url}", flush=True)
        for line in sys.stdin:
            cmd, _, arg = line.strip().partition(" ")
            if cmd == "dtc":
                if arg not in stored:
                    stored.append(arg.upper())
                reply = "ok"
            elif cmd == "clear":
                stored.clear()
                reply = "ok"
            elif cmd == "dtcs":
                due_dtcs()
                reply = "dtcs " + ",".join(stored)
            elif cmd == "ignition":
                state["ignition"] = arg == "on"
                reply = "ok"
            elif cmd == "garbage":
                state["garbage"] = int(arg)
                reply = "ok"
            elif cmd == "delay":
                emulator.delay = float(arg)
                reply = "ok"
            elif cmd == "drop":
                conn = emulator.sock_conn
                if conn is not None:
                    conn.shutdown(socket.SHUT_RDWR)
                reply = "ok"
            elif cmd == "queries":
                reply = f"queries {state['queries']}"
            else:
                reply = f"error unknown command {cmd!r}"
            print(reply, flush=True)
    os._exit(0)  # the emulator's reader thread may be blocked on the pty


if __name__ == "__main__":  # pragma: no cover
    sys.exit(_child_main(sys.argv[1:]))

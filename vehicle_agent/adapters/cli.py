"""`neot agent record`: capture a real drive from live adapters into a trip CSV for replay.

Mounted on the `neot agent` group by `vehicle_agent.cli`. Adapters come from the flags or from
an agent.toml's `[[adapters]]`; the agent's sampler merges them by time, as on the road, and
every merged sample becomes one CSV row (flushed at once, so an interrupted recording keeps
what it has). Heavy imports happen inside the command.
"""

import signal
import threading
import time
from pathlib import Path
from types import FrameType
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from vehicle_agent._errors import AgentUsageError

__all__ = ["record"]

_out = Console()


def record(
    out: Annotated[Path, typer.Option("--out", "-o", help="Trip CSV to write (see the replay adapter).")],
    obd: Annotated[
        str | None, typer.Option(help="ELM327 port: /dev/ttyUSB0, /dev/rfcomm0 or socket://host:port.")
    ] = None,
    obd_protocol: Annotated[
        str | None, typer.Option(help="ELM327 protocol number (6 = CAN 11-bit 500k); default auto-detect.")
    ] = None,
    pids: Annotated[str | None, typer.Option(help="Comma-separated python-obd PID names to read.")] = None,
    gpsd: Annotated[str | None, typer.Option(help="gpsd address, host:port (e.g. 127.0.0.1:2947).")] = None,
    nmea: Annotated[str | None, typer.Option(help="NMEA GPS serial port, e.g. /dev/ttyACM0.")] = None,
    config: Annotated[
        Path | None, typer.Option("--config", "-c", help="Take the adapters from this agent.toml instead.")
    ] = None,
    rate_hz: Annotated[int, typer.Option("--rate", min=1, max=10, help="Rows per second.")] = 1,
    duration_s: Annotated[
        float | None, typer.Option("--duration", min=0.1, help="Stop after this many seconds (default: Ctrl-C).")
    ] = None,
    force: Annotated[bool, typer.Option(help="Overwrite --out if it exists.")] = False,
) -> None:
    """Record a drive from live adapters (OBD-II and/or GPS) into a trip CSV until Ctrl-C."""
    from protocol import TripCsvWriter
    from vehicle_agent import Sampler
    from vehicle_agent.adapters import AdapterError, create_adapter

    specs = _adapter_specs(config, obd, obd_protocol, pids, gpsd, nmea, rate_hz)
    try:
        adapters = [create_adapter(kind, name, options) for kind, name, options in specs]
    except AdapterError as exc:
        raise AgentUsageError(str(exc), "check the adapter options") from exc
    try:
        handle = out.open("w" if force else "x", encoding="utf-8", newline="")
    except FileExistsError:
        raise AgentUsageError(f"{out} exists", "pass --force to overwrite it") from None
    except OSError as exc:
        raise AgentUsageError(f"cannot write {out}: {exc.strerror}") from exc
    with handle:
        writer = TripCsvWriter(handle)
        sampler = Sampler(adapters, writer.write, rate_hz=rate_hz)

        def _stop(signum: int, frame: FrameType | None) -> None:
            sampler.stop()

        signal.signal(signal.SIGINT, _stop)
        signal.signal(signal.SIGTERM, _stop)
        timer = threading.Timer(duration_s, sampler.stop) if duration_s else None
        if timer:
            timer.start()
        started = time.monotonic()
        _out.print(f"recording {', '.join(a.name for a in adapters)} → {out} (Ctrl-C to stop)")
        try:
            sampler.run()
        finally:
            sampler.stop()
            if timer:
                timer.cancel()
    table = Table(title=f"{writer.rows} rows in {time.monotonic() - started:.0f} s → {out}")
    for column in ("adapter", "kind", "state", "samples", "faults"):
        table.add_column(column)
    for adapter in adapters:
        st = adapter.status()
        table.add_row(st.name, st.kind, str(st.state), str(st.samples), str(st.faults))
    _out.print(table)


def _adapter_specs(
    config: Path | None,
    obd: str | None,
    obd_protocol: str | None,
    pids: str | None,
    gpsd: str | None,
    nmea: str | None,
    rate_hz: int,
) -> list[tuple[str, str | None, dict[str, Any]]]:
    if config is not None:
        if any((obd, gpsd, nmea)):
            raise AgentUsageError("--config and adapter flags exclude each other", "use one or the other")
        from vehicle_agent import AgentConfig, AgentConfigError

        try:
            cfg = AgentConfig.load(config)
        except AgentConfigError as exc:
            raise AgentUsageError(str(exc)) from exc
        specs = [(s.kind, s.name, s.options) for s in cfg.adapters]
    else:
        specs = []
        if obd:
            options: dict[str, Any] = {"port": obd, "protocol": obd_protocol, "sample_rate_hz": rate_hz}
            if pids:
                options["pids"] = [p.strip() for p in pids.split(",") if p.strip()]
            specs.append(("obd", "obd", options))
        if gpsd:
            host, _, port = gpsd.rpartition(":")
            if not host or not port.isdigit():
                raise AgentUsageError(f"--gpsd {gpsd!r} is not host:port", "e.g. --gpsd 127.0.0.1:2947")
            specs.append(("gpsd", "gps", {"host": host, "port": int(port)}))
        if nmea:
            specs.append(("nmea", "gps", {"port": nmea}))
    if not specs:
        raise AgentUsageError("no adapters to record from", "pass --obd, --gpsd or --nmea, or --config agent.toml")
    return specs

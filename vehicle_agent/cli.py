"""`neot agent …`: device key, running the agent, its status. Everything beyond typer/rich is
imported inside the commands, so the CLI starts fast and on a box with only the agent extra.
Adapter tooling (`neot agent record`) registers on `agent_app` too."""

import json
import signal
from pathlib import Path
from types import FrameType
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table
from typer.core import TyperGroup

from protocol import datetime_from_ns
from vehicle_agent._errors import AgentUsageError
from vehicle_agent.adapters.cli import record

__all__ = ["agent_app", "main", "register"]


class _AgentCommands(TyperGroup):
    """Prints an `AgentUsageError` as one line and exits 2, under `neot agent` and `python -m vehicle_agent` alike."""

    def invoke(self, ctx: Any) -> Any:  # a click Context; typer vendors click under a private name
        try:
            return super().invoke(ctx)
        except AgentUsageError as exc:
            Console(stderr=True).print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)
            raise typer.Exit(2) from exc


agent_app = typer.Typer(
    name="agent",
    help="The in-car sensor node: device key, sampling and signed uploads.",
    no_args_is_help=True,
    cls=_AgentCommands,
)
_out = Console()

agent_app.command()(record)

ConfigOption = Annotated[Path, typer.Option("--config", "-c", help="The agent's TOML configuration.")]


def register(app: typer.Typer) -> None:
    app.add_typer(agent_app)


def main() -> None:
    """`python -m vehicle_agent …`: the agent's commands without loading every component's CLI
    (on a development install `neot` imports the server side too, which costs ~40 MB of RSS)."""
    from vehicle_agent._settings import configure_agent_logging

    configure_agent_logging()
    agent_app()


def _load(config: Path) -> Any:
    from vehicle_agent import AgentConfig, AgentConfigError

    try:
        return AgentConfig.load(config)
    except AgentConfigError as exc:
        raise AgentUsageError(str(exc), "see `neot agent run --help` for the file's layout") from exc


@agent_app.command()
def keygen(
    out: Annotated[Path, typer.Option("--out", "-o", help="Where to write the key (mode 0600).")] = Path("device.key"),
) -> None:
    """Create this device's secp256r1 key; prints its NEO address (the device id) and public key."""
    from vehicle_agent import AgentConfigError, create_key_file

    try:
        key = create_key_file(out)
    except AgentConfigError as exc:
        raise AgentUsageError(str(exc)) from exc
    _out.print(f"device id  {key.address}\npublic key {key.public_key.hex()}\nkey file   {out} (0600)")


@agent_app.command()
def run(
    config: ConfigOption = Path("agent.toml"),
    until_drained: Annotated[
        bool, typer.Option(help="Exit once every adapter has ended (a recorded trip) and all is uploaded.")
    ] = False,
) -> None:
    """Sample the configured adapters and upload signed batches until stopped (SIGINT/SIGTERM)."""
    from vehicle_agent import Agent, AgentError
    from vehicle_agent.adapters import AdapterError

    cfg = _load(config)
    try:
        agent = Agent(cfg)
    except (AgentError, AdapterError) as exc:
        raise AgentUsageError(str(exc)) from exc

    def _stop(signum: int, frame: FrameType | None) -> None:
        agent.stop()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    try:
        agent.run(until_drained=until_drained)
    except AgentError as exc:
        raise AgentUsageError(str(exc)) from exc


def _when(ns: int | None) -> str:
    return "never" if ns is None else datetime_from_ns(ns).isoformat(timespec="seconds")


@agent_app.command()
def status(
    config: ConfigOption = Path("agent.toml"),
    as_json: Annotated[bool, typer.Option("--json", help="Print one JSON object.")] = False,
) -> None:
    """Buffer depth, dropped samples, last acknowledgement and adapter health."""
    from vehicle_agent import Buffer, BufferError

    cfg = _load(config)
    path = cfg.agent.buffer_file
    if not path.exists():
        raise AgentUsageError(f"no buffer at {path}", "the agent has not run with this configuration yet")
    try:
        buffer = Buffer(path, max_samples=cfg.agent.max_buffer_samples, read_only=True)
        stats = buffer.stats()
        health = buffer.get_state("health") or {}
        applied = buffer.get_state("config")
        buffer.close()
    except BufferError as exc:
        raise AgentUsageError(str(exc)) from exc
    data = {
        "buffer_file": str(path),
        "depth_samples": stats.depth,
        "queued_samples": stats.queued_samples,
        "pending_batches": stats.pending_batches,
        "dropped_samples": stats.dropped_samples,
        "rejected_samples": stats.rejected_samples,
        "taken_samples": stats.taken_samples,
        "max_samples": stats.max_samples,
        "next_seq": stats.next_seq,
        "last_ack_seq": stats.last_ack_seq,
        "last_ack_at": None if stats.last_ack_ns is None else _when(stats.last_ack_ns),
        "applied_config": applied,
        "health_at": _when(health.get("updated_ns")) if health else None,
        **{k: health.get(k) for k in ("device_id", "sample_rate_hz", "adapters", "uplink", "sampler")},
    }
    if as_json:
        typer.echo(json.dumps(data, sort_keys=True))
        return
    table = Table(title=f"agent {data['device_id'] or ''}".strip(), show_header=False)
    for k, v in data.items():
        table.add_row(k, json.dumps(v) if isinstance(v, dict | list) else str(v))
    _out.print(table)

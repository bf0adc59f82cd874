"""`neot anchor run|status` and `neot proof TYPE/ID`: operate the anchoring service and hand out proofs."""

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from neot.errors import UserError
from neot.settings import get_settings

__all__ = ["register"]

anchor_app = typer.Typer(help="Anchor committed records on NEO, one transaction per epoch.", no_args_is_help=True)
_console = Console(highlight=False, soft_wrap=True)


def _chain_dir(chain_dir: Path | None) -> Path:
    return chain_dir if chain_dir is not None else get_settings().data_dir / "chain"


@anchor_app.command("run")
def run(
    every_min: Annotated[
        float, typer.Option(envvar="NEOT_ANCHOR_EVERY_MIN", help="Close an epoch when its oldest leaf is this old.")
    ] = 10.0,
    max_leaves: Annotated[
        int, typer.Option(envvar="NEOT_ANCHOR_MAX_LEAVES", help="Close an epoch at this many leaves.")
    ] = 100_000,
    poll_s: Annotated[float, typer.Option(help="Seconds between checks when idle.")] = 1.0,
    valid_blocks: Annotated[
        int, typer.Option(help="Blocks an anchor transaction stays valid before a new one is signed.")
    ] = 1000,
    chain_dir: Annotated[
        Path | None, typer.Option(help="Folder of deployment.json and the wallet (default: DATA_DIR/chain).")
    ] = None,
    health_port: Annotated[
        int | None, typer.Option(min=0, max=65535, help="Serve /health and /metrics on this port (0: any free one).")
    ] = None,
    health_host: Annotated[str, typer.Option(help="Interface of the health server.")] = "0.0.0.0",
) -> None:
    """Run the anchoring loop until interrupted (SIGINT/SIGTERM). Safe to kill and restart at any time.

    With `--health-port`, `/health` answers 200 while the loop steps (a node that is down is
    waited out and still counts as stepping) and `/metrics` shows epoch lag and chain errors."""
    import asyncio
    import signal
    from datetime import timedelta

    from chain import Deployment, DeploymentError, Role, account_label
    from models import make_engine, make_session_factory
    from scoring_service.anchoring import AnchorConflict, EpochPolicy
    from scoring_service.anchoring.service import AnchorChain, Anchorer
    from scoring_service.monitoring import HealthServer, Heartbeat

    try:
        deployment = Deployment.load(_chain_dir(chain_dir))
        signer = deployment.keyring().account(account_label(Role.ANCHORER))
    except DeploymentError as exc:
        raise UserError(str(exc), "run `neot chain deploy` or pass --chain-dir") from exc
    engine = make_engine(get_settings().database_url)
    chain = AnchorChain(
        deployment.rpc_url, contract=deployment.contracts.anchor, signer=signer, valid_blocks=valid_blocks
    )
    anchorer = Anchorer(
        make_session_factory(engine),
        chain,
        policy=EpochPolicy(max_age=timedelta(minutes=every_min), max_leaves=max_leaves),
    )

    # a step waits at most a minute of backoff, plus a slow node's answers
    heartbeat = Heartbeat(stale_after_s=max(180.0, 10 * poll_s))
    server = None if health_port is None else HealthServer(heartbeat, host=health_host, port=health_port)

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stop.set)
        await anchorer.run(poll_s=poll_s, stop=stop, heartbeat=heartbeat)

    _console.print(f"anchoring to {deployment.contracts.anchor} via {deployment.rpc_url}", style="dim")
    if server is not None:
        _console.print(f"health and metrics on http://{health_host}:{server.port}/health", style="dim")
    try:
        asyncio.run(main())
    except AnchorConflict as exc:
        raise UserError(f"anchoring stopped: {exc}", "inspect `neot anchor status` and the chain") from exc
    finally:
        engine.dispose()
        if server is not None:
            server.close()


@anchor_app.command("status")
def status(
    limit: Annotated[int, typer.Option(help="Newest epochs to show.")] = 20,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
) -> None:
    """Show the newest epochs: state, leaves, root, anchor transaction and block."""
    from sqlalchemy import select

    from models import ScoreEpoch, make_engine, make_session_factory, session_scope

    engine = make_engine(get_settings().database_url)
    with session_scope(make_session_factory(engine)) as session:
        rows = [
            {
                "epoch": e.epoch,
                "state": str(e.state),
                "leaves": e.leaf_count,
                "root": e.root.hex() if e.root else None,
                "tx": e.tx_hash,
                "block": e.block,
            }
            for e in session.scalars(select(ScoreEpoch).order_by(ScoreEpoch.epoch.desc()).limit(limit))
        ]
    engine.dispose()
    if as_json:
        _console.print_json(json.dumps(rows))
        return
    table = Table("epoch", "state", "leaves", "root", "tx", "block")
    for row in rows:
        table.add_row(*(("" if v is None else str(v)) for v in row.values()))
    _console.print(table)


def _parse_record(value: str) -> tuple[str, int]:
    kind, _, raw_id = value.partition("/")
    if not raw_id.isdigit():
        raise UserError(f"{value!r} is not TYPE/ID", "e.g. trip_score/42")
    return kind, int(raw_id)


def proof(
    record: Annotated[
        str,
        typer.Argument(
            help="TYPE/ID, e.g. trip_score/42 (types: trip_score, driver_score, premium_statement, repair_payout)."
        ),
    ],
    out: Annotated[Path | None, typer.Option("--out", help="Write the proof here (default: stdout).")] = None,
) -> None:
    """Write the self-contained proof of one committed record (pending until its epoch is anchored)."""
    from models import make_engine, make_session_factory, session_scope
    from protocol import RecordType, canonical_json
    from scoring_service.anchoring import RecordNotCommitted, build_proof

    kind, record_id = _parse_record(record)
    if kind not in RecordType.__members__.values():
        raise UserError(f"unknown record type {kind!r}", f"one of {', '.join(RecordType)}")
    engine = make_engine(get_settings().database_url)
    try:
        with session_scope(make_session_factory(engine)) as session:
            document = build_proof(session, record_type=RecordType(kind), record_id=record_id).to_json()
    except RecordNotCommitted as exc:
        raise UserError(str(exc), "is the record finalised?") from exc
    finally:
        engine.dispose()
    text = json.dumps(json.loads(canonical_json(document)), indent=2, ensure_ascii=False) + "\n"
    if out is None:
        typer.echo(text, nl=False)
        return
    out.write_text(text, encoding="utf-8")
    state = "pending: epoch not anchored yet" if document["anchor"] is None else f"epoch {document['epoch']}"
    _console.print(f"[green]✓[/] proof of {kind}/{record_id} written to {out}: {state}")


def register(app: typer.Typer) -> None:
    """Add `neot anchor …` and `neot proof` to the root command."""
    app.add_typer(anchor_app, name="anchor")
    app.command("proof")(proof)

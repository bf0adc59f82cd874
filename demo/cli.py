"""`neot demo`: the whole NEOT story on this machine, then the dashboard until Ctrl-C."""

import dataclasses
import json
import signal
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

from neot.errors import UserError
from neot.settings import ensure_data_dir, get_settings

__all__ = ["register"]

_SUMMARY = "summary.json"


def demo(
    serve: Annotated[bool, typer.Option("--serve/--no-serve", help="Serve the dashboard until Ctrl-C.")] = True,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the summary as JSON (narration goes to stderr).")
    ] = False,
    port: Annotated[int, typer.Option(help="Port of the insurer API and dashboard on 127.0.0.1.")] = 8000,
    days: Annotated[
        int, typer.Option(min=1, max=31, help="Days of driving to replay (the month before today's).")
    ] = 31,
) -> None:
    """Emulated cars to NEOT payouts: chain, services, three drivers, a month of trips, scores
    anchored on NEO, premiums charged, a repair paid, a proof verified. Run again to see it again."""
    from chain import ChainError
    from demo._api import DemoError
    from demo._processes import Supervisor
    from demo._story import INSURER_USERNAME, DemoWorld, Story, previous_month

    settings = get_settings()
    data_dir = ensure_data_dir(settings).resolve()
    console = Console(stderr=as_json)
    story = Story(settings, console, port=port)
    summary_file = story.demo_dir / _SUMMARY
    signal.signal(signal.SIGTERM, lambda *_: (_ for _ in ()).throw(KeyboardInterrupt()))
    try:
        with Supervisor(data_dir / "demo-logs") as supervisor:
            try:
                story.start_chain()
                story.start_services(supervisor)
                if summary_file.exists():
                    story.world = DemoWorld(**json.loads(summary_file.read_text()))
                    story.api.sign_in("insurer", INSURER_USERNAME, story.world.password)
                    story.world.epochs = story.api.call("insurer", "GET", "/v1/epochs")
                    story.say(
                        f"[yellow]the story already ran in {data_dir}; showing it again "
                        f"(remove {data_dir} to start from scratch)[/]"
                    )
                else:
                    from datetime import date

                    month_start, month_days, period = previous_month(date.today())
                    story.demo_dir.mkdir(parents=True, exist_ok=True)
                    story.say(f"[bold]NEOT demo[/]: {period}, three drivers, one insurer, two repair shops")
                    story.seed(month_start, date(month_start.year + 1, month_start.month, 1))
                    story.drive_month(supervisor, month_start, min(days, month_days))
                    story.score_and_bill(period)
                    story.repair(supervisor)
                    story.world.epochs = story.wait_for_anchor()
                    story.prove()
                    summary_file.write_text(json.dumps(dataclasses.asdict(story.world), indent=2))
            except DemoError as exc:
                raise UserError(str(exc), f"logs are in {data_dir / 'demo-logs'}") from exc
            except ChainError as exc:
                raise UserError(
                    f"the local NEO chain: {exc}",
                    "stop what holds the port (`neot chain down` with its data dir) or set NEOT_NEO_RPC_URL "
                    "to another port",
                ) from exc
            if as_json:
                typer.echo(json.dumps(story.world.to_json(), indent=2))
            else:
                _print_summary(console, story.world)
            if serve:
                console.print(
                    f"\n[bold]Dashboard[/] at {story.world.dashboard_url} — sign in as a driver "
                    f"(e.g. {story.world.drivers[2]['email']}), ops@baltic-mutual.demo or "
                    f"shop-1@shops.demo with password [bold]{story.world.password}[/]. Ctrl-C stops it all."
                )
                signal.pause()
    except KeyboardInterrupt:
        console.print("\nstopping every process the demo started…")
    finally:
        story.stop_chain()
        story.api.close()


def _print_summary(console: Console, world: Any) -> None:
    drivers = Table("driver", "style", "trips", "km", "score", "premium (NEOT)", "charge tx", title="Drivers")
    for d in world.drivers:
        drivers.add_row(
            d["name"],
            d["style"],
            str(d["trips"]),
            f"{d['km']:.1f}",
            str(d["score"]),
            f"{d['premium'] / 10**8:.2f}",
            d["charge_tx"] or d.get("charge_error") or "-",
        )
    shops = Table("shop", "job", "trouble code", "invoice", "paid to shop", "royalty", "payout tx", title="Repair")
    for s in world.shops:
        shops.add_row(
            s["shop"],
            str(s["job_id"]),
            s["dtc"] or "-",
            f"{s['invoice'] / 10**8:.2f}",
            f"{s['shop_amount'] / 10**8:.2f}",
            f"{s['royalty_amount'] / 10**8:.2f}",
            s["payout_tx"] or "-",
        )
    epochs = Table("epoch", "state", "records", "root", "anchor tx", "block", title="Anchored epochs")
    for e in world.epochs:
        epochs.add_row(
            str(e["epoch"]),
            e["state"],
            str(e["leaf_count"]),
            e["root"] or "-",
            e["tx_hash"] or "-",
            str(e["block"] or "-"),
        )
    for table in (drivers, shops, epochs):
        console.print(table)
    console.print(
        f"proof {world.proof_file}: {'verified ✓' if world.proof_verified else 'NOT verified ✗'} "
        f"against {world.rpc_url} (network {world.network_magic})"
    )


def register(root: typer.Typer) -> None:
    """Mount `neot demo`."""
    root.command(name="demo")(demo)

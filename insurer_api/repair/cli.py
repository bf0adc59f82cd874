"""`neot repair explain JOB`: recompute the shop choice of a repair job and say why.

Heavy imports happen inside the command, so the CLI loads on an in-car box.
"""

from pathlib import Path
from typing import Annotated

import typer

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    repair = typer.Typer(help="Repair jobs: Negotiation, escrow, Evaluation.", no_args_is_help=True)

    @repair.command("explain")
    def explain_command(
        job_id: Annotated[int, typer.Argument(help="Repair job id.", min=1)],
        chain_dir: Annotated[
            Path | None,
            typer.Option("--chain-dir", help="Check records against this deployment's chain (default: data dir)."),
        ] = None,
        offline: Annotated[bool, typer.Option("--offline", help="Do not read the chain.")] = False,
        as_json: Annotated[bool, typer.Option("--json", help="Print the explanation as JSON.")] = False,
    ) -> None:
        """Print the ranking Negotiation made for JOB, re-run it, and check the records on chain."""
        import asyncio
        import json

        from rich.console import Console
        from rich.table import Table

        from insurer_api.cli import gateway_from_settings
        from insurer_api.repair._explain import explain
        from insurer_api.repair._service import escrow_events
        from models import RepairJob, make_engine, make_session_factory
        from neot.errors import UserError
        from neot.settings import get_settings

        engine = make_engine(get_settings().database_url)
        try:
            with make_session_factory(engine)() as session:
                job = session.get(RepairJob, job_id)
                snapshot = None if job is None else job.negotiation
        finally:
            engine.dispose()
        if snapshot is None:
            raise UserError(f"repair job {job_id} has no negotiation", "check the id with the API's /v1/repair-jobs")
        events = None
        if not offline:
            gateway = gateway_from_settings(chain_dir)
            events = escrow_events(asyncio.run(gateway.escrow_events()))
        result = explain(snapshot, chain_events=events)
        if as_json:
            typer.echo(
                json.dumps(
                    {
                        "job": job_id,
                        "winner": result.stored_winner,
                        "reproduced": result.reproduced,
                        "reason": result.reason,
                        "ranking": snapshot["ranking"],
                        "chain_checked": events is not None,
                        "chain_mismatches": {
                            a: {"stored": [s.jobs, s.successes], "chain": [c.jobs, c.successes]}
                            for a, (s, c) in result.chain_mismatches.items()
                        },
                    },
                    indent=2,
                )
            )
        else:
            console = Console()
            table = Table(
                "#",
                "shop",
                "address",
                "jobs",
                "ok",
                "smoothed rate",
                "eligible",
                title=f"Negotiation of job {job_id}: {snapshot['service']}",
            )
            for rank, row in enumerate(result.negotiation.ranking, start=1):
                rec = row.record
                table.add_row(
                    str(rank),
                    str(row.candidate.shop_id),
                    row.candidate.neo_address,
                    str(rec.jobs),
                    str(rec.successes),
                    f"{rec.smoothed_rate.numerator}/{rec.smoothed_rate.denominator}",
                    "yes" if row.eligible else "no: " + ", ".join(row.excluded),
                )
            console.print(table)
            console.print(result.reason, highlight=False)
            console.print("recomputed: " + ("[green]same choice[/]" if result.reproduced else "[red]DIFFERENT[/]"))
            if events is not None:
                console.print(
                    "records on chain: "
                    + (
                        "[green]confirmed[/]"
                        if not result.chain_mismatches
                        else "[red]" + ", ".join(result.chain_mismatches) + " differ[/]"
                    )
                )
        if not result.reproduced or result.chain_mismatches:
            raise typer.Exit(1)

    app.add_typer(repair, name="repair")

"""`neot verify proof.json --rpc URL`: check a proof against NEO without trusting NEOT's servers.

Exit status 0 only when record, salt, audit path, root, contract, network, transaction and block all
match; 1 when the proof fails (the reason is printed); 2 when the file cannot be read or the node
cannot be asked.
"""

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from neot.errors import UserError

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    """Add `neot verify` to the root command."""

    @app.command("verify")
    def verify_command(
        proof_file: Annotated[Path, typer.Argument(help="A proof document from `neot proof` or the API.")],
        rpc: Annotated[str, typer.Option("--rpc", help="JSON-RPC URL of any node of the network.")],
        contract: Annotated[
            str | None,
            typer.Option(help="The anchor contract you trust (0x…); default: the one the proof names."),
        ] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    ) -> None:
        """Verify a proof: recompute leaf and root, read the anchored root and the anchor transaction."""
        from neot._verifier import ChainReadError, verify_against_node
        from protocol import MalformedError, VerificationError

        out = Console(highlight=False, soft_wrap=True)
        try:
            document = json.loads(proof_file.read_bytes())
        except OSError as exc:
            raise UserError(f"cannot read {proof_file}: {exc.strerror or exc}") from exc
        except ValueError as exc:
            raise UserError(f"{proof_file} is not JSON: {exc}") from exc
        try:
            proof, inclusion, anchor = verify_against_node(document, rpc, contract=contract)
        except ChainReadError as exc:
            raise UserError(str(exc), "check --rpc points at a running NEO N3 node") from exc
        except (MalformedError, VerificationError) as exc:
            reason = exc.reason.value if isinstance(exc, VerificationError) else "malformed"
            if as_json:
                out.print_json(json.dumps({"verified": False, "reason": reason, "message": str(exc)}))
            else:
                out.print(f"[bold red]✗[/] {reason}: {exc}")
            raise typer.Exit(1) from exc
        summary = {
            "verified": True,
            "record_type": proof.record["type"],
            "epoch": inclusion.epoch,
            "leaf_index": inclusion.leaf_index,
            "tree_size": inclusion.tree_size,
            "root": inclusion.root.hex(),
            "network_magic": anchor.network_magic,
            "contract": anchor.contract,
            "tx": anchor.tx,
            "block": anchor.block,
        }
        if as_json:
            out.print_json(json.dumps(summary))
        else:
            out.print(
                f"[bold green]✓[/] {summary['record_type']} is leaf {summary['leaf_index']} of"
                f" {summary['tree_size']} in epoch {summary['epoch']}, root {summary['root']}, anchored by"
                f" {summary['contract']} on network {summary['network_magic']} in tx {summary['tx']}"
                f" (block {summary['block']})"
            )

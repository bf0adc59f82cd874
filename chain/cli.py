"""`neot chain up|down|status|deploy`: run a private NEO chain and put NEOT on it.

The chain folder (`--data-dir`, default `$NEOT_DATA_DIR/chain`) holds the node (`node/`: config,
BoltDB, log, pid file), `deployment.json` and the wallet of the NEOT accounts. neo-mamba and the
node launcher are imported inside the commands, so this module loads on an in-car box.
"""

import asyncio
import json
import os
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import urlparse

import typer
from rich.console import Console
from rich.table import Table

from neot.errors import UserError
from neot.settings import get_settings

if TYPE_CHECKING:
    from chain import ChainClient, Deployment

__all__ = ["app", "register"]

app = typer.Typer(help="Run a private NEO N3 chain and deploy the NEOT contracts.", no_args_is_help=True)
_console = Console(highlight=False, soft_wrap=True)

FUNDER_PASSWORD_ENV = "NEOT_FUNDER_PASSWORD"

DataDirOption = Annotated[
    Path | None,
    typer.Option("--data-dir", help="Chain folder: node, deployment and wallet (default: $NEOT_DATA_DIR/chain)."),
]


def _chain_dir(data_dir: Path | None) -> Path:
    return (data_dir if data_dir is not None else get_settings().data_dir / "chain").resolve()


def _node_home(chain_dir: Path) -> Path:
    return chain_dir / "node"


@contextmanager
def _chain_errors(hint: str) -> Iterator[None]:
    """Chain failures a user can act on become one-line errors."""
    from chain import ChainError

    try:
        yield
    except ChainError as exc:
        raise UserError(str(exc), hint) from exc


def _run[T](coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def _local_rpc_url(chain_dir: Path) -> str | None:
    """The RPC URL of the node started from `chain_dir`, if one runs."""
    import yaml

    from chain.node import NodeFiles, running_pid

    home = _node_home(chain_dir)
    if running_pid(home) is None:
        return None
    config = yaml.safe_load(NodeFiles(home).protocol.read_text())
    return f"http://{config['ApplicationConfiguration']['RPC']['Addresses'][0]}"


@app.command()
def up(
    data_dir: DataDirOption = None,
    rpc_port: Annotated[
        int | None, typer.Option("--rpc-port", help="RPC port on 127.0.0.1 (default: the port of NEOT_NEO_RPC_URL).")
    ] = None,
    timeout_s: Annotated[float, typer.Option("--timeout", help="Seconds to wait for RPC to answer.")] = 30.0,
) -> None:
    """Start a private single-node neo-go chain (persistent, BoltDB) in the background."""
    from chain.node import NeoGoNode

    chain_dir = _chain_dir(data_dir)
    port = rpc_port if rpc_port is not None else urlparse(get_settings().neo_rpc_url).port or 30333
    node = NeoGoNode(_node_home(chain_dir), rpc_port=port, persistent=True)
    with _chain_errors("`neot chain down` stops a running node; --rpc-port picks another port"):
        node.start(timeout_s=timeout_s)
    _console.print(f"[green]✓[/] neo-go running at {node.rpc_url} (pid {node.pid}, data in {node.files.home})")


@app.command()
def down(
    data_dir: DataDirOption = None,
    timeout_s: Annotated[float, typer.Option("--timeout", help="Seconds between SIGTERM and SIGKILL.")] = 10.0,
) -> None:
    """Stop the node started from the chain folder (SIGTERM, then SIGKILL after the timeout)."""
    from chain.node import running_pid, stop_pid

    home = _node_home(_chain_dir(data_dir))
    pid = running_pid(home)
    if pid is None:
        raise UserError(f"no node from {home} is running", "start one with `neot chain up`")
    killed = stop_pid(pid, timeout_s=timeout_s)
    (home / "neogo.pid").unlink(missing_ok=True)
    _console.print(f"[green]✓[/] neo-go (pid {pid}) {'killed' if killed else 'stopped'}")


@app.command()
def deploy(
    data_dir: DataDirOption = None,
    rpc: Annotated[
        str | None, typer.Option("--rpc", help="NEO N3 RPC URL (default: the local node, else NEOT_NEO_RPC_URL).")
    ] = None,
    wallet: Annotated[
        Path | None,
        typer.Option(
            "--wallet",
            help=f"NEP-6 wallet whose default account pays the GAS (password in ${FUNDER_PASSWORD_ENV}); "
            "default: the private chain's committee account.",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for machines.")] = False,
) -> None:
    """Deploy the NEOT token, score anchor and escrow, and fund the demo accounts. Idempotent."""
    from chain import committee_account, deploy_neot, wallet_account

    chain_dir = _chain_dir(data_dir)
    rpc_url = rpc or _local_rpc_url(chain_dir) or get_settings().neo_rpc_url
    with _chain_errors("check --rpc and that the funding account holds GAS"):
        if wallet is not None:
            password = os.environ.get(FUNDER_PASSWORD_ENV) or typer.prompt("wallet password", hide_input=True)
            funder = wallet_account(wallet, password)
        else:
            funder = committee_account()
        progress = (lambda _m: None) if as_json else (lambda m: _console.print(f"… {m}"))
        report = _run(deploy_neot(rpc_url, chain_dir, funder, progress=progress))
    deployment = report.deployment
    if as_json:
        summary = {
            **deployment.to_json(),
            "deployed": report.deployed,
            "gas_funded": report.gas_funded,
            "neot_funded": report.neot_funded,
        }
        typer.echo(json.dumps(summary, indent=2, sort_keys=True))
        return
    table = Table(title=f"NEOT on {rpc_url} (network {deployment.network_magic})")
    table.add_column("contract")
    table.add_column("hash")
    table.add_column("this run")
    for name, contract_hash in deployment.contracts.to_json().items():
        table.add_row(name, contract_hash, "deployed" if name in report.deployed else "already deployed")
    _console.print(table)
    funded = [f"{label} GAS" for label in report.gas_funded] + [f"{label} NEOT" for label in report.neot_funded]
    _console.print(f"funded: {', '.join(funded) if funded else 'nothing (all accounts at target)'}")
    _console.print(f"[green]✓[/] recorded in {chain_dir / 'deployment.json'}")


@app.command()
def status(
    data_dir: DataDirOption = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for machines.")] = False,
) -> None:
    """Height, deployed contracts and account balances of the recorded deployment."""
    from chain import ChainClient, Deployment
    from chain.node import running_pid

    chain_dir = _chain_dir(data_dir)
    pid = running_pid(_node_home(chain_dir))
    with _chain_errors("run `neot chain up` and `neot chain deploy`"):
        deployment = Deployment.load(chain_dir)
        client = ChainClient.from_deployment(deployment, rpc_timeout_s=5.0)
        report = _run(_status(client, deployment))
    report["node_pid"] = pid
    if as_json:
        typer.echo(json.dumps(report, indent=2, sort_keys=True))
        return
    _console.print(
        f"{deployment.rpc_url}: height {report['height']}, network {report['network']}, "
        f"local node {'pid ' + str(pid) if pid else 'not running'}"
    )
    contracts = Table(title="contracts")
    contracts.add_column("name")
    contracts.add_column("hash")
    contracts.add_column("on chain")
    contracts.add_column("NEOT held", justify="right")
    for name, info in report["contracts"].items():
        held = f"{info['neot'] / 10**8:,.2f}" if info["deployed"] else ""
        contracts.add_row(name, info["hash"], "yes" if info["deployed"] else "[red]no[/]", held)
    _console.print(contracts)
    balances = Table(title="accounts")
    for column in ("label", "address", "GAS", "NEOT"):
        balances.add_column(column, justify="right" if column in ("GAS", "NEOT") else "left")
    for label, info in report["accounts"].items():
        balances.add_row(label, info["address"], f"{info['gas'] / 10**8:,.4f}", f"{info['neot'] / 10**8:,.2f}")
    _console.print(balances)


async def _status(client: "ChainClient", deployment: "Deployment") -> dict[str, Any]:
    from chain import to_script_hash

    contracts: dict[str, Any] = {}
    for name, contract_hash in deployment.contracts.to_json().items():
        contracts[name] = {"hash": contract_hash, "deployed": await client.is_deployed(to_script_hash(contract_hash))}
    token_live = contracts["neot_token"]["deployed"]
    for info in contracts.values():
        # what the escrow holds is the NEOT frozen in open jobs and premium deposits
        info["neot"] = await client.neot_balance(info["hash"]) if token_live and info["deployed"] else 0
    accounts: dict[str, Any] = {}
    for label, address in deployment.accounts.items():
        accounts[label] = {
            "address": address,
            "gas": await client.gas_balance(address),
            "neot": await client.neot_balance(address) if token_live else 0,
        }
    return {
        "rpc_url": deployment.rpc_url,
        "network": await client.network_magic(),
        "height": await client.block_height(),
        "contracts": contracts,
        "accounts": accounts,
    }


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="chain")

"""`neot chain deploy`: accounts, GAS, the three contracts and NEOT for the demo accounts.

Idempotent by construction: a contract's hash follows from its deployer, NEF checksum and name,
so a contract already on chain under its expected hash is not deployed again, and accounts are
only topped up to their targets. Works against any NEO N3 endpoint given a GAS-funded account;
on the private chain that account is the committee multisig of the consensus wallet.
"""

import json
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from neo3.wallet import account as neo_account
from neo3.wallet import wallet

from chain._artefacts import ContractName, load_contract
from chain._deployment import DEMO_ACCOUNTS, ContractHashes, Deployment, Keyring, Role, account_label, create_keyring
from chain._errors import DeploymentError
from chain.client import ChainClient, ContractCall
from chain.node import COMMITTEE_WALLET_PASSWORD, neogo_data_dir

__all__ = [
    "DEFAULT_GAS_TARGETS",
    "DEFAULT_NEOT_TARGETS",
    "DeployReport",
    "committee_account",
    "deploy_neot",
    "wallet_account",
]

_GAS = 10**8
_NEOT = 10**8


def _targets(per_role: Mapping[Role, int], labels: Iterable[str]) -> dict[str, int]:
    return {label: per_role[Role(label.split("-")[0])] for label in labels if per_role.get(Role(label.split("-")[0]))}


# GAS each role needs for its fees: the treasury deploys (~10 GAS per contract) and pays out NEOT.
DEFAULT_GAS_TARGETS: Mapping[Role, int] = {
    Role.TREASURY: 200 * _GAS,
    Role.ANCHORER: 50 * _GAS,
    Role.INSURER: 50 * _GAS,
    Role.DRIVER: 10 * _GAS,
    Role.SHOP: 5 * _GAS,
    Role.ROYALTY: 5 * _GAS,
}
# NEOT the demo starts with: insurers fund repair jobs, drivers deposit premiums.
DEFAULT_NEOT_TARGETS: Mapping[Role, int] = {
    Role.INSURER: 1_000_000 * _NEOT,
    Role.DRIVER: 10_000 * _NEOT,
}


@dataclass(slots=True)
class DeployReport:
    """What one `deploy_neot` run changed; empty lists mean everything was already in place."""

    deployment: Deployment
    deployed: list[str] = field(default_factory=list)
    gas_funded: dict[str, int] = field(default_factory=dict)
    neot_funded: dict[str, int] = field(default_factory=dict)


def committee_account() -> neo_account.Account:
    """The private chain's committee multisig (holds all NEO and the initial GAS), able to sign."""
    path = neogo_data_dir() / "wallet1_solo.json"
    count = len(json.loads(path.read_text())["accounts"])
    wal = wallet.Wallet.from_file(str(path), passwords=[COMMITTEE_WALLET_PASSWORD] * count)
    default = wal.account_default
    if default is None or default.public_key is None:
        raise DeploymentError(f"{path} has no default account")
    committee: neo_account.Account = wal.import_multisig_address(1, [default.public_key])
    return committee


def wallet_account(path: Path, password: str) -> neo_account.Account:
    """The default account of a NEP-6 wallet, e.g. a funded TestNet wallet given with `--wallet`."""
    try:
        count = len(json.loads(path.read_text())["accounts"])
        wal = wallet.Wallet.from_file(str(path), passwords=[password] * count)
    except (OSError, ValueError, KeyError) as exc:
        raise DeploymentError(f"cannot open wallet {path}: {exc}") from exc
    if wal.account_default is None:
        raise DeploymentError(f"wallet {path} has no accounts")
    funder: neo_account.Account = wal.account_default
    return funder


async def _top_up(
    client: ChainClient,
    payer: neo_account.Account,
    keyring: Keyring,
    targets: Mapping[str, int],
    *,
    balance: Callable[[str], Awaitable[int]],
    transfer: Callable[[neo_account.Account, str, int], ContractCall],
    what: str,
) -> dict[str, int]:
    missing: dict[str, int] = {}
    for label, target in targets.items():
        address = str(keyring.account(label).address)
        # refill only below half the target, so that a re-run after spending fees changes nothing
        if (have := await balance(address)) < target // 2:
            missing[label] = target - have
    if missing:
        calls = [transfer(payer, str(keyring.account(label).address), amount) for label, amount in missing.items()]
        await client.send(payer, *calls, operation=f"fund {what}")
    return missing


async def deploy_neot(
    rpc_url: str,
    chain_dir: Path,
    funder: neo_account.Account,
    *,
    labels: Iterable[str] = DEMO_ACCOUNTS,
    gas_targets: Mapping[Role, int] = DEFAULT_GAS_TARGETS,
    neot_targets: Mapping[Role, int] = DEFAULT_NEOT_TARGETS,
    fast_kdf: bool = False,
    progress: Callable[[str], None] = lambda _message: None,
) -> DeployReport:
    """Create or reuse the accounts of `chain_dir`, fund them with GAS from `funder`, deploy the
    NEOT token, score anchor and escrow from the treasury, give NEOT to insurers and drivers,
    and record everything in `chain_dir/deployment.json`."""
    labels = list(labels)
    for required in (account_label(Role.TREASURY), account_label(Role.ANCHORER)):
        if required not in labels:
            raise DeploymentError(f"the accounts must include {required!r}")
    keyring = create_keyring(chain_dir, labels, fast_kdf=fast_kdf)
    bare = ChainClient(rpc_url)
    magic = await bare.network_magic()
    treasury = keyring.account(account_label(Role.TREASURY))
    anchorer = keyring.account(account_label(Role.ANCHORER))

    progress("funding accounts with GAS")
    gas_funded = await _top_up(
        bare,
        funder,
        keyring,
        _targets(gas_targets, labels),
        balance=bare.gas_balance,
        transfer=bare.gas_transfer_call,
        what="GAS",
    )

    token = load_contract(ContractName.TOKEN)
    anchor = load_contract(ContractName.ANCHOR)
    escrow = load_contract(ContractName.ESCROW)
    hashes = ContractHashes(
        token=ChainClient.contract_hash(treasury, token),
        anchor=ChainClient.contract_hash(treasury, anchor),
        escrow=ChainClient.contract_hash(treasury, escrow),
    )
    deployed: list[str] = []
    for compiled, contract_hash, data in (
        (token, hashes.token, None),
        (anchor, hashes.anchor, anchorer.script_hash),
        (escrow, hashes.escrow, hashes.token),
    ):
        if await bare.is_deployed(contract_hash):
            continue
        progress(f"deploying {compiled.name}")
        await bare.deploy_contract(treasury, compiled, data)
        deployed.append(str(compiled.name))

    client = ChainClient(rpc_url, hashes, expected_magic=magic)
    progress("funding accounts with NEOT")
    neot_funded = await _top_up(
        client,
        treasury,
        keyring,
        _targets(neot_targets, labels),
        balance=client.neot_balance,
        transfer=client.neot_transfer_call,
        what="NEOT",
    )
    deployment = Deployment(
        chain_dir=chain_dir, rpc_url=rpc_url, network_magic=magic, contracts=hashes, accounts=keyring.addresses()
    )
    deployment.save()
    return DeployReport(deployment, deployed, gas_funded, neot_funded)

"""NEOT on NEO N3: the contracts (token, score anchor, escrow), a local neo-go node, deployment,
and the typed async client the services use.

Load what `neot chain deploy` recorded and talk to it:

    deployment = Deployment.load(chain_dir)          # RPC URL, network magic, hashes, accounts
    keys = deployment.keyring()                      # signing accounts by label
    client = ChainClient.from_deployment(deployment)
    await client.anchor(keys.account("anchorer"), epoch, root, leaf_count)

The names below load on first use (PEP 562), so that `import chain.cli` stays cheap and does not
pull neo-mamba into `neot` commands that never touch the chain.
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from chain._artefacts import CompiledContract, ContractName, compile_contract, load_contract
    from chain._deploy import DeployReport, committee_account, deploy_neot, wallet_account
    from chain._deployment import (
        DEMO_ACCOUNTS,
        DEPLOYMENT_FILE,
        ContractHashes,
        Deployment,
        Keyring,
        Role,
        account_label,
        create_keyring,
        open_keyring,
        to_script_hash,
    )
    from chain._errors import (
        ChainConnectionError,
        ChainError,
        ChainTimeoutError,
        ContractFault,
        DeploymentError,
        NodeAlreadyRunning,
        NodeBinaryMissing,
        NodeError,
        NodeNotRunning,
        PortInUse,
        RpcError,
        TransactionFaulted,
    )
    from chain.client import (
        AnchoredEpoch,
        ChainClient,
        ContractCall,
        EscrowJob,
        EventPage,
        JobEvent,
        JobEventKind,
        JobState,
        PremiumCharge,
        PremiumPolicy,
        TxOutcome,
        TxReceipt,
    )
    from chain.node import NeoGoNode, find_free_port

_LOCATIONS: dict[str, str] = {
    "AnchoredEpoch": "chain.client",
    "ChainClient": "chain.client",
    "ChainConnectionError": "chain._errors",
    "ChainError": "chain._errors",
    "ChainTimeoutError": "chain._errors",
    "CompiledContract": "chain._artefacts",
    "ContractCall": "chain.client",
    "ContractFault": "chain._errors",
    "ContractHashes": "chain._deployment",
    "ContractName": "chain._artefacts",
    "DEMO_ACCOUNTS": "chain._deployment",
    "DEPLOYMENT_FILE": "chain._deployment",
    "DeployReport": "chain._deploy",
    "Deployment": "chain._deployment",
    "DeploymentError": "chain._errors",
    "EscrowJob": "chain.client",
    "EventPage": "chain.client",
    "JobEvent": "chain.client",
    "JobEventKind": "chain.client",
    "JobState": "chain.client",
    "Keyring": "chain._deployment",
    "NeoGoNode": "chain.node",
    "NodeAlreadyRunning": "chain._errors",
    "NodeBinaryMissing": "chain._errors",
    "NodeError": "chain._errors",
    "NodeNotRunning": "chain._errors",
    "PortInUse": "chain._errors",
    "PremiumCharge": "chain.client",
    "PremiumPolicy": "chain.client",
    "Role": "chain._deployment",
    "RpcError": "chain._errors",
    "TransactionFaulted": "chain._errors",
    "TxOutcome": "chain.client",
    "TxReceipt": "chain.client",
    "account_label": "chain._deployment",
    "committee_account": "chain._deploy",
    "compile_contract": "chain._artefacts",
    "create_keyring": "chain._deployment",
    "deploy_neot": "chain._deploy",
    "find_free_port": "chain.node",
    "load_contract": "chain._artefacts",
    "open_keyring": "chain._deployment",
    "to_script_hash": "chain._deployment",
    "wallet_account": "chain._deploy",
}


__all__ = [
    "DEMO_ACCOUNTS",
    "DEPLOYMENT_FILE",
    "AnchoredEpoch",
    "ChainClient",
    "ChainConnectionError",
    "ChainError",
    "ChainTimeoutError",
    "CompiledContract",
    "ContractCall",
    "ContractFault",
    "ContractHashes",
    "ContractName",
    "DeployReport",
    "Deployment",
    "DeploymentError",
    "EscrowJob",
    "EventPage",
    "JobEvent",
    "JobEventKind",
    "JobState",
    "Keyring",
    "NeoGoNode",
    "NodeAlreadyRunning",
    "NodeBinaryMissing",
    "NodeError",
    "NodeNotRunning",
    "PortInUse",
    "PremiumCharge",
    "PremiumPolicy",
    "Role",
    "RpcError",
    "TransactionFaulted",
    "TxOutcome",
    "TxReceipt",
    "account_label",
    "committee_account",
    "compile_contract",
    "create_keyring",
    "deploy_neot",
    "find_free_port",
    "load_contract",
    "open_keyring",
    "to_script_hash",
    "wallet_account",
]


def __getattr__(name: str) -> Any:
    try:
        module = _LOCATIONS[name]
    except KeyError:
        raise AttributeError(f"module 'chain' has no attribute {name!r}") from None
    value = getattr(import_module(module), name)
    globals()[name] = value
    return value

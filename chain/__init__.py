"""NEOT on NEO N3: the contracts (token, score anchor, escrow), a local neo-go node, deployment,
and the typed async client the services use.

Load what `neot chain deploy` recorded and talk to it:

    deployment = Deployment.load(chain_dir)          # RPC URL, network magic, hashes, accounts
    keys = deployment.keyring()                      # signing accounts by label
    client = ChainClient.from_deployment(deployment)
    await client.anchor(keys.account("anchorer"), epoch, root, leaf_count)
"""

from chain._artefacts import CompiledContract, ContractName, compile_contract, load_contract
from chain._deploy import DeployReport, committee_account, deploy_neot, wallet_account
from chain._deployment import (
    DEMO_ACCOUNTS,
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
    TxReceipt,
)
from chain.node import NeoGoNode, find_free_port

__all__ = [
    "DEMO_ACCOUNTS",
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

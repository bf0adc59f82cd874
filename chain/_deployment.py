"""The deployment: which RPC endpoint and network, which contract hashes, which accounts.

Everything lives in one chain folder (by default `$NEOT_DATA_DIR/chain`):

- `deployment.json`: RPC URL, network magic, the three contract hashes and the address of every
  account by label. No secrets; other components read it with `Deployment.load`.
- `wallet.json`: a NEP-6 wallet holding the private keys of those accounts (NEP-2 encrypted).
- `wallet.password`: the wallet password (mode 0600), unless `NEOT_WALLET_PASSWORD` is set.

Account labels are `<role>` or `<role>-<n>` (`treasury`, `anchorer`, `insurer-1`, `driver-2`,
`shop-3`, `royalty`). The treasury deploys the contracts and therefore holds the whole NEOT supply;
the anchorer is the only account the score anchor accepts; an insurer's operator locks and settles
repair jobs and charges premiums; drivers deposit premiums; shops and the royalty account receive
payouts.
"""

import json
import os
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, Self

from neo3.core import types
from neo3.wallet import account as neo_account
from neo3.wallet import scrypt_parameters, wallet
from neo3.wallet import utils as wallet_utils

from chain._errors import DeploymentError

__all__ = [
    "DEMO_ACCOUNTS",
    "DEPLOYMENT_FILE",
    "ContractHashes",
    "Deployment",
    "Keyring",
    "Role",
    "account_label",
    "create_keyring",
    "open_keyring",
    "to_script_hash",
]

DEPLOYMENT_FILE = "deployment.json"
WALLET_FILE = "wallet.json"
PASSWORD_FILE = "wallet.password"
PASSWORD_ENV = "NEOT_WALLET_PASSWORD"


class Role(StrEnum):
    """What an account is for; the label of an account starts with its role."""

    TREASURY = "treasury"
    ANCHORER = "anchorer"
    INSURER = "insurer"
    DRIVER = "driver"
    SHOP = "shop"
    ROYALTY = "royalty"


def account_label(role: Role, number: int | None = None) -> str:
    """`treasury` for singletons, `driver-2` for numbered roles."""
    return str(role) if number is None else f"{role}-{number}"


# The accounts `neot chain deploy` creates: enough for the demo flows (two insurers' worth of
# drivers, a choice of shops for Negotiation).
DEMO_ACCOUNTS: tuple[str, ...] = (
    account_label(Role.TREASURY),
    account_label(Role.ANCHORER),
    account_label(Role.INSURER, 1),
    account_label(Role.DRIVER, 1),
    account_label(Role.DRIVER, 2),
    account_label(Role.SHOP, 1),
    account_label(Role.SHOP, 2),
    account_label(Role.SHOP, 3),
    account_label(Role.ROYALTY),
)


def to_script_hash(account: str | types.UInt160) -> types.UInt160:
    """An address (`N…`) or a script hash (`0x…` big-endian hex, or a UInt160) as a UInt160."""
    if isinstance(account, types.UInt160):
        return account
    if account.startswith("0x"):
        return types.UInt160.from_string(account[2:])
    try:
        return wallet_utils.address_to_script_hash(account)
    except ValueError as exc:
        raise ValueError(f"not a NEO address or script hash: {account!r}") from exc


@dataclass(frozen=True, slots=True)
class ContractHashes:
    """Script hashes of the deployed NEOT contracts."""

    token: types.UInt160
    anchor: types.UInt160
    escrow: types.UInt160

    def __repr__(self) -> str:
        return f"ContractHashes({self.to_json()})"

    def to_json(self) -> dict[str, str]:
        return {"neot_token": f"0x{self.token}", "score_anchor": f"0x{self.anchor}", "escrow": f"0x{self.escrow}"}

    @classmethod
    def from_json(cls, data: Mapping[str, str]) -> Self:
        return cls(
            token=to_script_hash(data["neot_token"]),
            anchor=to_script_hash(data["score_anchor"]),
            escrow=to_script_hash(data["escrow"]),
        )


@dataclass(frozen=True, slots=True)
class Deployment:
    """What other components need to talk to NEOT on chain; loaded from the chain folder."""

    chain_dir: Path
    rpc_url: str
    network_magic: int
    contracts: ContractHashes
    accounts: Mapping[str, str] = field(default_factory=dict)

    def address(self, label: str) -> str:
        """The address of the account labelled `label` (e.g. `insurer-1`)."""
        try:
            return self.accounts[label]
        except KeyError as exc:
            raise DeploymentError(f"no account labelled {label!r} in {self.chain_dir / DEPLOYMENT_FILE}") from exc

    def script_hash(self, label: str) -> types.UInt160:
        return to_script_hash(self.address(label))

    def keyring(self) -> "Keyring":
        """The private keys of this deployment's accounts (decrypts the wallet)."""
        return open_keyring(self.chain_dir)

    def to_json(self) -> dict[str, Any]:
        return {
            "rpc_url": self.rpc_url,
            "network_magic": self.network_magic,
            "contracts": self.contracts.to_json(),
            "accounts": dict(self.accounts),
        }

    def save(self) -> None:
        self.chain_dir.mkdir(parents=True, exist_ok=True)
        path = self.chain_dir / DEPLOYMENT_FILE
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(self.to_json(), indent=2, sort_keys=True) + "\n")
        tmp.replace(path)

    @classmethod
    def load(cls, chain_dir: Path) -> Self:
        """Read `deployment.json` from `chain_dir`; DeploymentError if missing or malformed."""
        path = chain_dir / DEPLOYMENT_FILE
        try:
            data = json.loads(path.read_text())
            return cls(
                chain_dir=chain_dir,
                rpc_url=str(data["rpc_url"]),
                network_magic=int(data["network_magic"]),
                contracts=ContractHashes.from_json(data["contracts"]),
                accounts={str(k): str(v) for k, v in data["accounts"].items()},
            )
        except FileNotFoundError as exc:
            raise DeploymentError(f"no deployment in {chain_dir} (run `neot chain deploy`)") from exc
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise DeploymentError(f"{path} is not a valid deployment: {exc}") from exc


class Keyring:
    """Signing accounts by label, decrypted from the chain folder's wallet."""

    def __init__(self, accounts: Iterable[neo_account.Account]) -> None:
        self._by_label = {str(acc.label): acc for acc in accounts}

    def __contains__(self, label: object) -> bool:
        return label in self._by_label

    def labels(self) -> list[str]:
        return list(self._by_label)

    def account(self, label: str) -> neo_account.Account:
        try:
            return self._by_label[label]
        except KeyError as exc:
            raise DeploymentError(f"the wallet holds no account labelled {label!r}") from exc

    def addresses(self) -> dict[str, str]:
        return {label: str(acc.address) for label, acc in self._by_label.items()}


def _password(chain_dir: Path, *, create: bool) -> str:
    if env := os.environ.get(PASSWORD_ENV):
        return env
    path = chain_dir / PASSWORD_FILE
    if path.exists():
        return path.read_text().strip()
    if not create:
        raise DeploymentError(f"no wallet password: set {PASSWORD_ENV} or restore {path}")
    password = secrets.token_urlsafe(24)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(password + "\n")
    return password


def _write_wallet(chain_dir: Path, wal: wallet.Wallet, password: str) -> None:
    path = chain_dir / WALLET_FILE
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump(wal.to_json(password), handle, indent=2)
    tmp.replace(path)


def open_keyring(chain_dir: Path) -> Keyring:
    """Decrypt the wallet of `chain_dir`."""
    path = chain_dir / WALLET_FILE
    if not path.exists():
        raise DeploymentError(f"no wallet at {path} (run `neot chain deploy`)")
    password = _password(chain_dir, create=False)
    count = len(json.loads(path.read_text())["accounts"])
    try:
        wal = wallet.Wallet.from_file(str(path), passwords=[password] * count)
    except ValueError as exc:
        raise DeploymentError(f"cannot decrypt {path}: wrong password?") from exc
    return Keyring(wal.accounts)


def create_keyring(chain_dir: Path, labels: Iterable[str], *, fast_kdf: bool = False) -> Keyring:
    """Open the wallet of `chain_dir`, adding a fresh key for every label it lacks.

    `fast_kdf` lowers the scrypt cost of the NEP-2 encryption for throwaway test chains, where
    decrypting a dozen keys at full cost would dominate the run time.
    """
    chain_dir.mkdir(parents=True, exist_ok=True)
    path = chain_dir / WALLET_FILE
    password = _password(chain_dir, create=True)
    params = scrypt_parameters.ScryptParameters(n=2, r=1, p=1) if fast_kdf else scrypt_parameters.ScryptParameters()
    if path.exists():
        count = len(json.loads(path.read_text())["accounts"])
        wal = wallet.Wallet.from_file(str(path), passwords=[password] * count)
    else:
        wal = wallet.Wallet(name="neot", scrypt_params=params)
    existing = {acc.label for acc in wal.accounts}
    missing = [label for label in labels if label not in existing]
    for label in missing:
        wal.account_new(label=label, is_default=label == account_label(Role.TREASURY))
    if missing or not path.exists():
        _write_wallet(chain_dir, wal, password)
    return Keyring(wal.accounts)

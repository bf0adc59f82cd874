"""NEOT: the NEP-17 token in which premiums and repair jobs are paid.

The whole fixed supply is minted once, to the account that deploys the contract (the platform
treasury); there is no mint or burn afterwards, so the supply on chain is auditable by anyone.
"""

from typing import Any

from boa3.sc import runtime, storage
from boa3.sc.compiletime import NeoMetadata, public
from boa3.sc.contracts import ContractManagement
from boa3.sc.types import UInt160
from boa3.sc.utils import Nep17TransferEvent, abort, call_contract


def manifest_metadata() -> NeoMetadata:
    meta = NeoMetadata()
    meta.name = "NEOT"
    meta.supported_standards = ["NEP-17"]
    # A transfer to a contract must call its onNEP17Payment and nothing else.
    meta.add_permission(methods=["onNEP17Payment"])
    meta.description = "NEOT token: premiums and repair-shop payments of the NEOT insurance platform"
    return meta


TOKEN_SYMBOL = "NEOT"
TOKEN_DECIMALS = 8
# 100 million NEOT in base units.
TOKEN_TOTAL_SUPPLY = 100_000_000 * 10**8

# Balances are keyed by the 20-byte account under this one-byte prefix.
BALANCE_PREFIX = b"b"

on_transfer = Nep17TransferEvent


@public(safe=True)
def symbol() -> str:
    return TOKEN_SYMBOL


@public(safe=True)
def decimals() -> int:
    return TOKEN_DECIMALS


@public(name="totalSupply", safe=True)
def total_supply() -> int:
    return TOKEN_TOTAL_SUPPLY


@public(name="balanceOf", safe=True)
def balance_of(account: UInt160) -> int:
    assert len(account) == 20, "account must be 20 bytes"
    return storage.get_int(BALANCE_PREFIX + account)


@public
def transfer(from_address: UInt160, to_address: UInt160, amount: int, data: Any) -> bool:
    """NEP-17 transfer: FAULTs on malformed input, returns False when the sender has not signed or
    lacks the funds, and calls the receiver's onNEP17Payment when it is a contract."""
    assert len(from_address) == 20 and len(to_address) == 20, "addresses must be 20 bytes"
    assert amount >= 0, "amount must not be negative"
    from_balance = balance_of(from_address)
    if from_balance < amount:
        return False
    if not runtime.check_witness(from_address):
        return False
    if from_address != to_address and amount != 0:
        if from_balance == amount:
            storage.delete(BALANCE_PREFIX + from_address)
        else:
            storage.put_int(BALANCE_PREFIX + from_address, from_balance - amount)
        storage.put_int(BALANCE_PREFIX + to_address, balance_of(to_address) + amount)
    on_transfer(from_address, to_address, amount)
    if ContractManagement.get_contract(to_address) is not None:
        call_contract(to_address, "onNEP17Payment", [from_address, amount, data])
    return True


@public(name="onNEP17Payment")
def on_nep17_payment(from_address: UInt160 | None, amount: int, data: Any) -> None:
    """The token contract holds no tokens of any kind: every payment to it is refused."""
    abort()


@public
def _deploy(data: Any, update: bool) -> None:
    if not update:
        treasury = runtime.script_container.sender
        storage.put_int(BALANCE_PREFIX + treasury, TOKEN_TOTAL_SUPPLY)
        on_transfer(None, treasury, TOKEN_TOTAL_SUPPLY)

"""The NEO side of anchoring: read the anchor contract, build and sign an anchor transaction
without sending it, broadcast raw bytes, and read a transaction's outcome.

Building and sending are separate on purpose: the service records the signed transaction before
it is broadcast, so after a crash it re-sends the very same bytes (same hash, at most one
inclusion) instead of signing a second anchor.
"""

import json
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

import aiohttp
from neo3.api import noderpc
from neo3.api.wrappers import GenericContract
from neo3.core import types
from neo3.network.payloads import transaction, verification
from neo3.wallet import account as neo_account

from protocol import AnchoredEvent
from scoring_service.anchoring._errors import AnchorConflict, ChainUnavailable

__all__ = ["AnchorChain", "SignedAnchor", "TxOutcome"]

_HALT = "HALT"
# JSON-RPC errors of a re-broadcast that are not a problem: the node already has the transaction
# on chain (-501) or in its pool (-503), or it just expired (-510; the loop then signs a new one).
_HARMLESS_SEND_ERRORS = frozenset({-501, -503, -510})
_UNKNOWN_TX = -100


@dataclass(frozen=True, slots=True)
class SignedAnchor:
    """A signed `anchor(epoch, root, leaf_count)` transaction, not yet broadcast."""

    tx_hash: str
    raw: bytes
    valid_until_block: int


@dataclass(frozen=True, slots=True)
class TxOutcome:
    """A transaction that is in a block: VM state, block index, GAS paid and `Anchored` events."""

    vm_state: str
    block: int
    gas_paid: int
    events: tuple[AnchoredEvent, ...]


class AnchorChain:
    """The anchor contract on one NEO node, signing as the anchoring account."""

    def __init__(
        self,
        rpc_url: str,
        *,
        contract: types.UInt160,
        signer: neo_account.Account,
        valid_blocks: int = 1000,
        timeout_s: float = 10.0,
    ) -> None:
        self.rpc_url = rpc_url
        self.contract = contract
        self.contract_hex = f"0x{contract}"
        self._signer = signer
        self._valid_blocks = valid_blocks
        self._timeout_s = timeout_s

    @asynccontextmanager
    async def _client(self) -> AsyncIterator[noderpc.NeoRpcClient]:
        try:
            async with noderpc.NeoRpcClient(self.rpc_url, timeout=self._timeout_s) as client:
                yield client
        except (aiohttp.ClientError, TimeoutError, OSError) as exc:
            raise ChainUnavailable(f"NEO node at {self.rpc_url} did not answer: {exc!r}") from exc
        except noderpc.JsonRpcTimeoutError as exc:
            raise ChainUnavailable(f"NEO node at {self.rpc_url} timed out") from exc
        except json.JSONDecodeError as exc:  # e.g. a proxy's HTML error page while the node is down
            raise ChainUnavailable(f"{self.rpc_url} did not answer with JSON-RPC: {exc}") from exc

    async def _call[T](self, work: Callable[[noderpc.NeoRpcClient], Awaitable[T]]) -> T:
        async with self._client() as client:
            return await work(client)

    async def network_magic(self) -> int:
        """The magic of the network the node is on (transactions are signed for it)."""
        version = await self._call(lambda c: c.get_version())
        return int(version.protocol.network)

    async def block_count(self) -> int:
        """Number of blocks persisted (the newest block's index plus one)."""
        return int(await self._call(lambda c: c.get_block_count()))

    async def latest_epoch(self) -> int:
        """The contract's newest anchored epoch, -1 before the first."""
        result = await self._call(lambda c: c.invoke_function(self.contract, "latestEpoch"))
        if result.state != _HALT:
            raise AnchorConflict(f"latestEpoch() failed on {self.contract_hex}: {result.exception}")
        return int(result.stack[0].as_int())

    async def sign_anchor(self, epoch: int, root: bytes, leaf_count: int) -> SignedAnchor:
        """Test-run `anchor(epoch, root, leaf_count)` and return it signed, fees included.

        A test run that FAULTs (not the anchoring account, epoch not increasing, …) raises
        `AnchorConflict`: sending it would only burn GAS.
        """
        script = GenericContract(self.contract).call_function("anchor", [epoch, root, leaf_count]).script
        signer = verification.Signer(self._signer.script_hash, verification.WitnessScope.CALLED_BY_ENTRY)

        account = self._signer
        if account.contract is None:
            raise AnchorConflict(f"account {account.address} has no verification script: it cannot sign")
        verification_script = account.contract.script

        async def build(client: noderpc.NeoRpcClient) -> SignedAnchor:
            trial = await client.invoke_script(script, [signer])
            if trial.state != _HALT:
                raise AnchorConflict(f"anchor({epoch}) would fail on {self.contract_hex}: {trial.exception}")
            magic = int((await client.get_version()).protocol.network)
            tx = transaction.Transaction(
                version=0,
                nonce=secrets.randbits(32),  # equal nonces would give equal hashes
                system_fee=trial.gas_consumed,
                network_fee=0,
                valid_until_block=await client.get_block_count() + self._valid_blocks,
                attributes=[],
                signers=[signer],
                script=script,
            )
            # the fee is priced on a witness of the right shape; neo-go checks its script hash
            tx.witnesses = [verification.Witness(b"", verification_script)]
            tx.network_fee = await client.calculate_network_fee(tx)
            tx.witnesses = []
            account.sign_tx(tx, magic)
            return SignedAnchor(f"0x{tx.hash()}", tx.to_array(), int(tx.valid_until_block))

        return await self._call(build)

    async def broadcast(self, raw: bytes) -> None:
        """Send signed bytes; a node that already has the transaction, or finds it expired, is fine:
        `Anchorer` follows up by reading the chain."""

        async def send(client: noderpc.NeoRpcClient) -> None:
            try:
                await client.send_transaction(raw)
            except noderpc.JsonRpcError as exc:
                if exc.code not in _HARMLESS_SEND_ERRORS:
                    raise AnchorConflict(f"the node refused the anchor transaction: {exc}") from exc

        await self._call(send)

    async def outcome(self, tx_hash: str) -> TxOutcome | None:
        """The transaction's outcome once it is in a block; None while the node does not know it."""

        async def read(client: noderpc.NeoRpcClient) -> TxOutcome | None:
            uint = types.UInt256.from_string(tx_hash.removeprefix("0x"))
            try:
                log = await client.get_application_log_transaction(uint)
                block = await client.get_transaction_height(uint)
                tx = await client.get_transaction(uint)
            except noderpc.JsonRpcError as exc:
                if exc.code == _UNKNOWN_TX or "unknown" in str(exc.message).lower():
                    return None
                raise
            events = tuple(
                AnchoredEvent(f"0x{n.contract}", int(n.state.value[0].as_int()), bytes(n.state.value[1].value))
                for n in log.execution.notifications
                if n.event_name == "Anchored"
            )
            return TxOutcome(log.execution.state, int(block), int(tx.system_fee + tx.network_fee), events)

        return await self._call(read)

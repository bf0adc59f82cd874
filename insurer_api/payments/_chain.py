"""The escrow contract as payments need it: transactions signed now and sent later, and reads.

Sending is split in two on purpose. `prepare_*` builds and signs a transaction (random nonce,
fees from the node, network magic from `getversion`) after a test invocation proved it HALTs, and
returns its hash and bytes *without sending it*. The caller records both as the payment's intent
and commits; only then does it `send` them. After a crash the same bytes are sent again: the
chain includes one transaction hash at most once, and once the height passes `valid_until_block`
the transaction can never be included, so the payment can be voided safely.
"""

import asyncio
import secrets
import threading
from collections.abc import Awaitable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import aiohttp
from neo3.api import noderpc
from neo3.api.wrappers import GenericContract
from neo3.core import types
from neo3.network.payloads import transaction, verification
from neo3.wallet import utils as wallet_utils
from neo3.wallet.account import Account

from chain import Deployment
from insurer_api.payments._errors import ChainRefusedError, ChainUnavailableError, UnknownSignerError

__all__ = [
    "JOB_LOCKED",
    "JOB_REFUNDED",
    "JOB_RELEASED",
    "ChainEvent",
    "EscrowGateway",
    "EscrowJob",
    "PreparedTx",
    "TxOutcome",
]

JOB_LOCKED = 1
JOB_RELEASED = 2
JOB_REFUNDED = 3

# How many blocks a prepared transaction stays valid: long enough to survive a restart, short
# enough that recovery can void an unsent payment within minutes (100 ms to 15 s blocks).
VALID_FOR_BLOCKS = 120
_EVENT_BATCH_BLOCKS = 100  # neo-go refuses batches of more than 100 requests

# Field kinds of the escrow's events, in order: b = bytes, a = account (address), i = int, s = str.
_EVENT_FIELDS: Mapping[str, tuple[tuple[str, str], ...]] = {
    "JobLocked": (("job_id", "b"), ("shop", "a"), ("insurer", "a"), ("amount", "i")),
    "JobReleased": (
        ("job_id", "b"),
        ("shop", "a"),
        ("insurer", "a"),
        ("outcome", "s"),
        ("shop_amount", "i"),
        ("royalty_account", "a"),
        ("royalty_amount", "i"),
        ("returned_amount", "i"),
    ),
    "JobRefunded": (("job_id", "b"), ("shop", "a"), ("insurer", "a"), ("outcome", "s"), ("amount", "i")),
    "PremiumDeposited": (
        ("policy_id", "b"),
        ("driver", "a"),
        ("operator", "a"),
        ("amount", "i"),
        ("cap_per_period", "i"),
        ("end_ms", "i"),
    ),
    "PremiumCharged": (
        ("policy_id", "b"),
        ("driver", "a"),
        ("operator", "a"),
        ("period", "i"),
        ("amount", "i"),
        ("statement_hash", "b"),
    ),
    "PremiumWithdrawn": (("policy_id", "b"), ("driver", "a"), ("amount", "i")),
}


@dataclass(frozen=True, slots=True)
class PreparedTx:
    """A signed, unsent transaction: what a payment's intent records."""

    tx_hash: str
    raw: bytes
    valid_until_block: int


@dataclass(frozen=True, slots=True)
class ChainEvent:
    """One escrow event, decoded: accounts as NEO addresses, ids and hashes as bytes."""

    name: str
    tx_hash: str
    block: int
    fields: Mapping[str, bytes | int | str]

    def int(self, name: str) -> int:
        value = self.fields[name]
        if not isinstance(value, int):
            raise TypeError(f"{self.name} field {name} is {type(value).__name__}, not an integer")
        return value

    def text(self, name: str) -> str:
        value = self.fields[name]
        if not isinstance(value, str):
            raise TypeError(f"{self.name} field {name} is {type(value).__name__}, not text")
        return value

    def raw(self, name: str) -> bytes:
        value = self.fields[name]
        if not isinstance(value, bytes):
            raise TypeError(f"{self.name} field {name} is {type(value).__name__}, not bytes")
        return value


@dataclass(frozen=True, slots=True)
class TxOutcome:
    """What happened to a transaction that is on chain."""

    halted: bool
    block: int
    exception: str | None
    events: tuple[ChainEvent, ...]


@dataclass(frozen=True, slots=True)
class EscrowJob:
    """`getJob`: who locked how much for which shop, and whether it is still locked."""

    insurer: str
    shop: str
    amount: int
    state: int


def _u160(address: str) -> types.UInt160:
    return wallet_utils.address_to_script_hash(address)


def _address(raw: bytes) -> str:
    return wallet_utils.script_hash_to_address(types.UInt160(raw))


def _decode(item: noderpc.StackItem, kind: str) -> bytes | int | str:
    if kind == "i":
        return item.as_int()
    raw = item.as_bytes()
    if kind == "a":
        return _address(raw)
    if kind == "s":
        return raw.decode()
    return raw


class EscrowGateway:
    """Talks to one NEO node about one NEOT token and one escrow contract, signing as `signers`."""

    def __init__(
        self,
        *,
        rpc_url: str,
        token_hash: types.UInt160,
        escrow_hash: types.UInt160,
        signers: Mapping[str, Account],
        rpc_timeout_s: float = 10.0,
        valid_for_blocks: int = VALID_FOR_BLOCKS,
    ) -> None:
        self.rpc_url = rpc_url
        self.token = GenericContract(token_hash)
        self.escrow = GenericContract(escrow_hash)
        self.escrow_address = wallet_utils.script_hash_to_address(escrow_hash)
        self._signers = dict(signers)
        self._timeout_s = rpc_timeout_s
        self.valid_for_blocks = valid_for_blocks
        self._cache_lock = threading.Lock()
        self._seen_events: list[ChainEvent] = []
        self._scanned_to = 0

    @classmethod
    def from_deployment(cls, deployment: Deployment) -> "EscrowGateway":
        """The gateway of a `neot chain deploy` folder, signing with every key of its wallet."""
        keyring = deployment.keyring()
        return cls(
            rpc_url=deployment.rpc_url,
            token_hash=deployment.contracts.token,
            escrow_hash=deployment.contracts.escrow,
            signers={keyring.account(label).address: keyring.account(label) for label in keyring.labels()},
        )

    def add_signer(self, account: Account) -> None:
        """Hold one more operator key (an insurer's account)."""
        self._signers[account.address] = account

    def _client(self) -> noderpc.NeoRpcClient:
        return noderpc.NeoRpcClient(self.rpc_url, timeout=self._timeout_s)

    async def _rpc[T](self, coro: Awaitable[T]) -> T:
        """Await one RPC call, turning a silent or unreachable node into `ChainUnavailableError`."""
        try:
            result = await coro
        except (TimeoutError, noderpc.JsonRpcTimeoutError) as exc:
            raise ChainUnavailableError(f"NEO node at {self.rpc_url} timed out") from exc
        except (OSError, aiohttp.ClientError) as exc:
            raise ChainUnavailableError(f"NEO node at {self.rpc_url} is unreachable: {exc}") from exc
        return result

    # ---- transactions ----------------------------------------------------------------------

    async def prepare_lock(self, *, insurer: str, job_id: bytes, shop: str, amount: int) -> PreparedTx:
        """NEOT `transfer(insurer → escrow, amount, ["job", job_id, shop])`: freezes the authorisation."""
        call = self.token.call_function(
            "transfer", [_u160(insurer), self.escrow.hash, amount, ["job", job_id, _u160(shop)]]
        )
        return await self._prepare(call.script, insurer)

    async def prepare_release(
        self,
        *,
        insurer: str,
        job_id: bytes,
        shop: str,
        shop_amount: int,
        royalty_account: str,
        royalty_amount: int,
    ) -> PreparedTx:
        call = self.escrow.call_function(
            "release", [job_id, _u160(shop), shop_amount, _u160(royalty_account), royalty_amount]
        )
        return await self._prepare(call.script, insurer)

    async def prepare_refund(self, *, insurer: str, job_id: bytes) -> PreparedTx:
        return await self._prepare(self.escrow.call_function("refund", [job_id]).script, insurer)

    async def prepare_charge(
        self, *, operator: str, policy_id: bytes, period: int, amount: int, statement_hash: bytes
    ) -> PreparedTx:
        call = self.escrow.call_function("charge", [policy_id, period, amount, statement_hash])
        return await self._prepare(call.script, operator)

    async def _prepare(self, script: bytes, signer_address: str) -> PreparedTx:
        account = self._signers.get(signer_address)
        if account is None:
            raise UnknownSignerError(f"no key is configured for {signer_address}")
        signer = verification.Signer(account.script_hash, verification.WitnessScope.CALLED_BY_ENTRY)
        async with self._client() as client:
            probe = await self._rpc(client.invoke_script(script, [signer]))
            if probe.state != "HALT":
                raise ChainRefusedError("the escrow refuses this operation", probe.exception)
            returned = probe.stack[0] if probe.stack else None
            if returned is not None and returned.type is noderpc.StackItemType.BOOL and not returned.value:
                raise ChainRefusedError("the token refuses this transfer (balance too low?)")
            version = await self._rpc(client.get_version())
            height = await self._rpc(client.get_block_count())
            tx = transaction.Transaction(
                version=0,
                nonce=secrets.randbits(32),
                system_fee=probe.gas_consumed,
                network_fee=0,
                valid_until_block=height + self.valid_for_blocks,
                attributes=[],
                signers=[signer],
                script=script,
            )
            if account.contract is None:
                raise UnknownSignerError(f"account {account.address} has no verification script to sign with")
            tx.witnesses = [verification.Witness(b"", account.contract.script)]
            tx.network_fee = await self._rpc(client.calculate_network_fee(tx))
            tx.witnesses = []
            account.sign_tx(tx, version.protocol.network)
        return PreparedTx(tx_hash=f"0x{tx.hash()}", raw=tx.to_array(), valid_until_block=tx.valid_until_block)

    async def send(self, raw: bytes) -> None:
        """Broadcast; a transaction the node already has (in its pool or a block) is not an error."""
        async with self._client() as client:
            try:
                await self._rpc(client.send_transaction(raw))
            except noderpc.JsonRpcError as exc:
                text = str(exc).lower()
                if "already" in text or "exists" in text:
                    return
                raise ChainRefusedError("the node rejected the transaction", str(exc)) from exc

    async def outcome(self, tx_hash: str) -> TxOutcome | None:
        """The executed result, or None while the transaction is not in a block."""
        async with self._client() as client:
            try:
                log = await self._rpc(client.get_application_log_transaction(tx_hash))
                block = await self._rpc(client.get_transaction_height(tx_hash))
            except noderpc.JsonRpcError as exc:
                if "unknown" in str(exc).lower() or "not found" in str(exc).lower():
                    return None
                raise ChainUnavailableError(f"cannot read {tx_hash}: {exc}") from exc
        return TxOutcome(
            halted=log.execution.state == "HALT",
            block=block,
            exception=log.execution.exception,
            events=tuple(self._events(log.execution.notifications, tx_hash, block)),
        )

    def _events(self, notifications: Sequence[noderpc.Notification], tx_hash: str, block: int) -> list[ChainEvent]:
        found = []
        for note in notifications:
            spec = _EVENT_FIELDS.get(note.event_name)
            if note.contract != self.escrow.hash or spec is None:
                continue
            items = note.state.as_list()
            fields = {name: _decode(item, kind) for (name, kind), item in zip(spec, items, strict=True)}
            found.append(ChainEvent(name=note.event_name, tx_hash=tx_hash, block=block, fields=fields))
        return found

    async def wait(self, tx_hash: str, *, valid_until_block: int, timeout_s: float = 30.0) -> TxOutcome | None:
        """Wait for inclusion; None if the transaction expired (past its last valid block) unseen."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while True:
            found = await self.outcome(tx_hash)
            if found is not None:
                return found
            if await self.height() > valid_until_block:
                # one more look: it may have landed in the very last valid block
                return await self.outcome(tx_hash)
            if loop.time() > deadline:
                raise ChainUnavailableError(f"{tx_hash} not in a block after {timeout_s:.0f} s")
            await asyncio.sleep(0.1)

    # ---- reads -----------------------------------------------------------------------------

    async def height(self) -> int:
        """Number of blocks; a transaction valid until block h is dead once this exceeds h."""
        async with self._client() as client:
            return await self._rpc(client.get_block_count())

    async def _read(self, method: str, args: list[Any]) -> noderpc.StackItem:
        async with self._client() as client:
            res = await self._rpc(client.invoke_script(self.escrow.call_function(method, args).script))
        if res.state != "HALT":
            raise ChainRefusedError(f"escrow {method} failed", res.exception)
        item: noderpc.StackItem = res.stack[0]
        return item

    async def job(self, job_id: bytes) -> EscrowJob | None:
        """The escrow's record of a job, or None if it never saw the id."""
        item = await self._read("getJob", [job_id])
        values = item.as_list()
        if not values:
            return None
        return EscrowJob(
            insurer=_address(values[0].as_bytes()),
            shop=_address(values[1].as_bytes()),
            amount=values[2].as_int(),
            state=values[3].as_int(),
        )

    async def deposit_balance(self, policy_id: bytes) -> int:
        """What is left of a policy's premium deposit (0 if none was ever made)."""
        values = (await self._read("getPolicy", [policy_id])).as_list()
        return values[4].as_int() if values else 0

    async def balance_of(self, address: str) -> int:
        """NEOT held by `address`."""
        async with self._client() as client:
            res = await self._rpc(client.invoke_script(self.token.call_function("balanceOf", [_u160(address)]).script))
        if res.state != "HALT":
            raise ChainRefusedError("NEOT balanceOf failed", res.exception)
        amount: int = res.stack[0].as_int()
        return amount

    async def escrow_events(self) -> list[ChainEvent]:
        """Every escrow event so far, in chain order.

        Blocks are read once with neo-go's `getblocknotifications` (filtered to the escrow, 100
        blocks per batched request); events of blocks already read are kept, since a block of a
        single-validator chain is final.
        """
        height = await self.height()
        with self._cache_lock:
            start, known = self._scanned_to, list(self._seen_events)
        if start >= height:
            return known
        found: list[ChainEvent] = []
        async with self._client() as client:
            for batch_start in range(start, height, _EVENT_BATCH_BLOCKS):
                indexes = range(batch_start, min(batch_start + _EVENT_BATCH_BLOCKS, height))
                payload = [
                    {
                        "jsonrpc": "2.0",
                        "id": index,
                        "method": "getblocknotifications",
                        "params": [index, {"contract": f"0x{self.escrow.hash}"}],
                    }
                    for index in indexes
                ]
                answers = await self._rpc(self._post_batch(client, payload))
                for answer in sorted(answers, key=lambda a: int(a.get("id") or 0)):
                    if "error" in answer:
                        raise ChainUnavailableError(f"getblocknotifications failed: {answer['error']}")
                    notes = (answer.get("result") or {}).get("application") or []
                    by_tx: dict[str, list[noderpc.Notification]] = {}
                    for raw in notes:
                        by_tx.setdefault(str(raw["container"]), []).append(noderpc.Notification.from_json(raw))
                    for tx_hash, tx_notes in by_tx.items():
                        found.extend(self._events(tx_notes, tx_hash, int(answer["id"])))
        with self._cache_lock:
            if self._scanned_to == start:
                self._seen_events.extend(found)
                self._scanned_to = height
            return list(self._seen_events)

    @staticmethod
    async def _post_batch(client: noderpc.NeoRpcClient, payload: list[dict[str, Any]]) -> list[dict[str, Any]]:
        async with client.session.post(client.url, json=payload) as response:
            answers: list[dict[str, Any]] | dict[str, Any] = await response.json(content_type=None)
        # a batch the node rejects as a whole comes back as one error object
        return answers if isinstance(answers, list) else [answers]

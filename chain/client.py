"""Typed async client for the NEOT contracts, over neo-mamba's JSON-RPC client.

Every write goes through one pipeline (`ChainClient.send`):

1. run the script as a test invocation with the sender as signer; a FAULT raises `ContractFault`
   carrying the VM exception, and nothing is sent;
2. build the transaction with a random nonce, the system fee measured in step 1, the network fee
   computed by the node, and sign it with the network magic read from `getversion`;
3. send it and poll its application log until it is included; a FAULT there (the chain moved
   between test and inclusion) raises `TransactionFaulted`.

A timeout (`ChainTimeoutError`) and a refused or dropped connection (`ChainConnectionError`) are
different errors. Both carry `tx_hash` once the transaction was signed: it may have reached the
node and still be included, so look it up (or wait past its `valid_until_block`) before
building a new one.

Each call opens its own short-lived HTTP session, so one client can be shared by code running on
different event loops (tests, CLI commands, a web server).
"""

import asyncio
import secrets
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import IntEnum, StrEnum
from typing import Any, Self

import aiohttp
from neo3 import vm
from neo3.api import noderpc
from neo3.contracts import contract as native
from neo3.contracts import nef as neo_nef
from neo3.contracts import utils as contract_utils
from neo3.core import types
from neo3.network.payloads import transaction, verification
from neo3.wallet import account as neo_account
from neo3.wallet import utils as wallet_utils

from chain._artefacts import CompiledContract
from chain._deployment import ContractHashes, Deployment, to_script_hash
from chain._errors import (
    ChainConnectionError,
    ChainError,
    ChainTimeoutError,
    ContractFault,
    DeploymentError,
    RpcError,
    TransactionFaulted,
)

__all__ = [
    "GAS_DECIMALS",
    "NEOT_DECIMALS",
    "AnchoredEpoch",
    "ChainClient",
    "ContractArg",
    "ContractCall",
    "EscrowJob",
    "EventPage",
    "JobEvent",
    "JobEventKind",
    "JobState",
    "PremiumCharge",
    "PremiumPolicy",
    "TxOutcome",
    "TxReceipt",
]

NEOT_DECIMALS = 8
GAS_DECIMALS = 8
_VALID_FOR_BLOCKS = 1500
# neo-go answers at most 100 requests in one JSON-RPC batch ("the number of requests in batch
# shouldn't exceed 100")
_EVENT_BATCH_BLOCKS = 100

type Account = neo_account.Account
type AccountRef = str | types.UInt160
type ContractArg = bool | int | str | bytes | types.UInt160 | types.UInt256 | Sequence["ContractArg"] | None


@dataclass(frozen=True, slots=True)
class ContractCall:
    """One method call in a transaction script. `asserts_true` adds an ASSERT on its result, for
    methods such as NEP-17 `transfer` that report failure by returning false."""

    contract: types.UInt160
    method: str
    args: Sequence[ContractArg] = ()
    asserts_true: bool = False


@dataclass(frozen=True, slots=True)
class TxReceipt:
    """A transaction included in a block with VM state HALT."""

    tx_hash: str
    block_index: int
    system_fee: int
    network_fee: int
    notifications: list[noderpc.Notification] = field(repr=False)

    @property
    def gas_cost(self) -> int:
        """What the sender paid, in GAS base units (10^-8 GAS)."""
        return self.system_fee + self.network_fee


@dataclass(frozen=True, slots=True)
class TxOutcome:
    """What the chain did with a transaction found by hash: HALT or FAULT, and where."""

    tx_hash: str
    block_index: int
    halted: bool
    vm_exception: str | None
    gas_consumed: int


class JobState(IntEnum):
    """Escrow job states, as stored by the escrow contract."""

    LOCKED = 1
    RELEASED = 2
    REFUNDED = 3


@dataclass(frozen=True, slots=True)
class EscrowJob:
    job_id: str
    insurer: str
    shop: str
    amount: int
    state: JobState


@dataclass(frozen=True, slots=True)
class PremiumPolicy:
    policy_id: str
    driver: str
    operator: str
    cap_per_period: int
    end: datetime
    balance: int


class JobEventKind(StrEnum):
    LOCKED = "JobLocked"
    RELEASED = "JobReleased"
    REFUNDED = "JobRefunded"


@dataclass(frozen=True, slots=True)
class JobEvent:
    """One escrow job event. `amount` is the locked amount (LOCKED), the shop's payout
    (RELEASED) or the refunded amount (REFUNDED); `outcome` is `completed`/`failed` once settled."""

    kind: JobEventKind
    job_id: str
    shop: str
    insurer: str
    amount: int
    outcome: str | None
    royalty_account: str | None
    royalty_amount: int
    returned_amount: int
    block_index: int
    tx_hash: str


@dataclass(frozen=True, slots=True)
class PremiumCharge:
    policy_id: str
    driver: str
    operator: str
    period: int
    amount: int
    statement_hash: bytes
    block_index: int
    tx_hash: str


@dataclass(frozen=True, slots=True)
class AnchoredEpoch:
    epoch: int
    root: bytes
    leaf_count: int
    block_index: int
    tx_hash: str


@dataclass(frozen=True, slots=True)
class EventPage[T]:
    """Events found in blocks [first_block, next_block); continue from `next_block`."""

    events: list[T]
    first_block: int
    next_block: int


def _address(value: AccountRef) -> str:
    return wallet_utils.script_hash_to_address(to_script_hash(value))


def _id_bytes(identifier: str) -> bytes:
    raw = identifier.encode()
    if not 0 < len(raw) <= 64:
        raise ValueError(f"ids must be 1 to 64 bytes of UTF-8, got {len(raw)}")
    return raw


def _script(calls: Sequence[ContractCall]) -> bytes:
    builder = vm.ScriptBuilder()  # type: ignore[no-untyped-call]
    for call in calls:
        builder.emit_contract_call_with_args(call.contract, call.method, list(call.args))
        if call.asserts_true:
            builder.emit(vm.OpCode.ASSERT)
    return builder.to_array()


def _signer_scope(account: Account) -> verification.Signer:
    return verification.Signer(account.script_hash, verification.WitnessScope.CALLED_BY_ENTRY)


def _sign(account: Account, tx: transaction.Transaction, magic: int) -> None:
    if account.is_multisig:
        account.sign_multisig_tx(tx, neo_account.MultiSigContext(), magic)  # type: ignore[no-untyped-call]
    else:
        account.sign_tx(tx, magic)


class ChainClient:
    """NEOT token, score anchor and escrow, read and written over one NEO N3 RPC endpoint."""

    def __init__(
        self,
        rpc_url: str,
        contracts: ContractHashes | None = None,
        *,
        expected_magic: int | None = None,
        rpc_timeout_s: float = 10.0,
        inclusion_timeout_s: float = 30.0,
    ) -> None:
        self.rpc_url = rpc_url
        self._contracts = contracts
        self._expected_magic = expected_magic
        self.rpc_timeout_s = rpc_timeout_s
        self.inclusion_timeout_s = inclusion_timeout_s
        self._version: noderpc.GetVersionResponse | None = None

    @classmethod
    def from_deployment(cls, deployment: Deployment, **kwargs: float) -> Self:
        """A client for `deployment`; refuses to sign if the node's network magic differs."""
        return cls(
            deployment.rpc_url,
            deployment.contracts,
            expected_magic=deployment.network_magic,
            **kwargs,
        )

    @property
    def contracts(self) -> ContractHashes:
        if self._contracts is None:
            raise DeploymentError("this client was created without contract hashes")
        return self._contracts

    # ------------------------------------------------------------------ RPC plumbing

    @asynccontextmanager
    async def _rpc(self) -> AsyncIterator[noderpc.NeoRpcClient]:
        """An RPC session whose errors are mapped onto the chain exception tree."""
        try:
            async with noderpc.NeoRpcClient(self.rpc_url, timeout=self.rpc_timeout_s) as rpc:
                yield rpc
        except ChainError:
            raise
        except noderpc.JsonRpcError as exc:
            raise RpcError("rpc", exc.code, exc.message) from exc
        except (TimeoutError, aiohttp.ServerTimeoutError) as exc:
            raise ChainTimeoutError(f"{self.rpc_url} did not answer within {self.rpc_timeout_s} s") from exc
        except aiohttp.ClientError as exc:
            raise ChainConnectionError(f"{self.rpc_url}: {type(exc).__name__}: {exc}") from exc

    async def version(self) -> noderpc.GetVersionResponse:
        """`getversion`, fetched once: network magic, block time, address version."""
        if self._version is None:
            async with self._rpc() as rpc:
                version = await rpc.get_version()
            magic = version.protocol.network
            if self._expected_magic is not None and magic != self._expected_magic:
                raise DeploymentError(
                    f"{self.rpc_url} serves network {magic}, the deployment was made on {self._expected_magic}"
                )
            self._version = version
        return self._version

    async def network_magic(self) -> int:
        return (await self.version()).protocol.network

    async def block_height(self) -> int:
        """Number of blocks (the index of the next block)."""
        async with self._rpc() as rpc:
            return await rpc.get_block_count()

    async def block_time(self) -> datetime:
        """Timestamp of the newest block: the `runtime.time` contracts compare against."""
        async with self._rpc() as rpc:
            header = await rpc.get_block_header(await rpc.get_block_count() - 1)
        return datetime.fromtimestamp(header.timestamp / 1000, tz=UTC)

    async def _test(
        self, rpc: noderpc.NeoRpcClient, script: bytes, operation: str, signers: Sequence[verification.Signer] = ()
    ) -> noderpc.ExecutionResultResponse:
        result = await rpc.invoke_script(script, list(signers))
        if result.state != "HALT":
            raise ContractFault(operation, result.exception)
        return result

    async def call(self, call: ContractCall) -> noderpc.StackItem:
        """Test-invoke one read method and return its result item (FAULT → ContractFault)."""
        async with self._rpc() as rpc:
            result = await self._test(rpc, _script([call]), call.method)
        return result.stack[0]

    async def send(self, sender: Account, *calls: ContractCall, operation: str | None = None) -> TxReceipt:
        """Test-invoke, sign, send and wait for `calls` as one transaction paid by `sender`."""
        if not calls:
            raise ValueError("a transaction needs at least one call")
        operation = operation or "+".join(call.method for call in calls)
        return await self._send_script(sender, _script(calls), operation)

    async def _send_script(self, sender: Account, script: bytes, operation: str) -> TxReceipt:
        magic = await self.network_magic()
        signer = _signer_scope(sender)
        if sender.contract is None:
            raise ValueError(f"{sender.address} has no verification script: it cannot sign")
        async with self._rpc() as rpc:
            test = await self._test(rpc, script, operation, [signer])
            height = await rpc.get_block_count()
            tx = transaction.Transaction(
                version=0,
                nonce=secrets.randbits(32),
                system_fee=test.gas_consumed,
                network_fee=0,
                valid_until_block=height + _VALID_FOR_BLOCKS,
                attributes=[],
                signers=[signer],
                script=script,
            )
            tx.witnesses = [verification.Witness(b"", sender.contract.script)]
            tx.network_fee = await rpc.calculate_network_fee(tx)
            tx.witnesses = []
            _sign(sender, tx, magic)
        tx_hash = tx.hash()
        try:
            async with self._rpc() as rpc:
                await rpc.send_transaction(tx)
            log, block_index = await self._wait_for(tx_hash)
        except ChainTimeoutError as exc:
            # the node may hold the transaction (or have received it before the line dropped)
            raise ChainTimeoutError(str(exc), tx_hash=f"0x{tx_hash}") from exc
        except ChainConnectionError as exc:
            raise ChainConnectionError(str(exc), tx_hash=f"0x{tx_hash}") from exc
        if log.state != "HALT":
            raise TransactionFaulted(operation, log.exception, tx_hash=f"0x{tx_hash}")
        return TxReceipt(
            tx_hash=f"0x{tx_hash}",
            block_index=block_index,
            system_fee=tx.system_fee,
            network_fee=tx.network_fee,
            notifications=log.notifications,
        )

    async def find_transaction(self, tx_hash: str) -> TxOutcome | None:
        """The outcome of a transaction by hash (e.g. the `tx_hash` of a timeout or connection
        error), or None while it is in no block: pending, dropped, or never received."""
        parsed = types.UInt256.from_string(tx_hash.removeprefix("0x"))
        async with self._rpc() as rpc:
            try:
                log = await rpc.get_application_log_transaction(parsed)
                block_index = await rpc.get_transaction_height(parsed)
            except noderpc.JsonRpcError as exc:
                if "unknown" in exc.message.lower():
                    return None
                raise
        execution = log.execution
        return TxOutcome(
            tx_hash=f"0x{parsed}",
            block_index=block_index,
            halted=execution.state == "HALT",
            vm_exception=execution.exception,
            gas_consumed=execution.gas_consumed,
        )

    async def _wait_for(self, tx_hash: types.UInt256) -> tuple[noderpc.ApplicationExecution, int]:
        version = await self.version()
        delay_s = max(version.protocol.ms_per_block / 4000, 0.02)
        deadline = time.monotonic() + self.inclusion_timeout_s
        async with self._rpc() as rpc:
            # polls only while the deadline holds: a timeout of 0 sends and returns the hash unwaited
            while time.monotonic() < deadline:
                try:
                    log = await rpc.get_application_log_transaction(tx_hash)
                    height = await rpc.get_transaction_height(tx_hash)
                    return log.execution, height
                except noderpc.JsonRpcError as exc:
                    if "unknown" not in exc.message.lower():
                        raise
                await asyncio.sleep(delay_s)
        raise ChainTimeoutError(f"transaction 0x{tx_hash} not included within {self.inclusion_timeout_s} s")

    # ------------------------------------------------------------------ GAS and NEOT

    async def gas_balance(self, account: AccountRef) -> int:
        item = await self.call(ContractCall(native.CONTRACT_HASHES.GAS_TOKEN, "balanceOf", [to_script_hash(account)]))
        return item.as_int()

    async def transfer_gas(self, sender: Account, to: AccountRef, amount: int) -> TxReceipt:
        return await self.send(sender, self.gas_transfer_call(sender, to, amount), operation="GAS transfer")

    def gas_transfer_call(self, sender: Account, to: AccountRef, amount: int) -> ContractCall:
        return ContractCall(
            native.CONTRACT_HASHES.GAS_TOKEN,
            "transfer",
            [sender.script_hash, to_script_hash(to), amount, None],
            asserts_true=True,
        )

    async def neot_balance(self, account: AccountRef) -> int:
        """NEOT balance in base units (10^-8 NEOT)."""
        item = await self.call(ContractCall(self.contracts.token, "balanceOf", [to_script_hash(account)]))
        return item.as_int()

    async def neot_total_supply(self) -> int:
        return (await self.call(ContractCall(self.contracts.token, "totalSupply"))).as_int()

    def neot_transfer_call(
        self, sender: Account, to: AccountRef, amount: int, data: ContractArg = None
    ) -> ContractCall:
        """A NEOT transfer for `send`, e.g. to batch several payouts in one transaction."""
        if amount < 0:
            raise ValueError("amount must not be negative")
        return ContractCall(
            self.contracts.token, "transfer", [sender.script_hash, to_script_hash(to), amount, data], asserts_true=True
        )

    async def transfer_neot(self, sender: Account, to: AccountRef, amount: int, data: ContractArg = None) -> TxReceipt:
        """Transfer NEOT; `data` reaches the receiver's onNEP17Payment when it is a contract.
        A refused transfer (not enough NEOT) FAULTs in the test invocation: nothing is sent."""
        return await self.send(sender, self.neot_transfer_call(sender, to, amount, data), operation="NEOT transfer")

    # ------------------------------------------------------------------ score anchor

    async def anchor(self, anchorer: Account, epoch: int, root: bytes, leaf_count: int) -> TxReceipt:
        """Anchor the Merkle `root` (32 bytes) of `epoch`; FAULTs if anchored already or out of order."""
        return await self.send(
            anchorer, ContractCall(self.contracts.anchor, "anchor", [epoch, root, leaf_count]), operation="anchor"
        )

    async def get_root(self, epoch: int) -> bytes | None:
        """The root anchored for `epoch`, or None."""
        root = (await self.call(ContractCall(self.contracts.anchor, "getRoot", [epoch]))).as_bytes()
        return root or None

    async def get_leaf_count(self, epoch: int) -> int:
        return (await self.call(ContractCall(self.contracts.anchor, "getLeafCount", [epoch]))).as_int()

    async def latest_epoch(self) -> int | None:
        """The newest anchored epoch, or None before the first anchor."""
        epoch = (await self.call(ContractCall(self.contracts.anchor, "latestEpoch"))).as_int()
        return None if epoch < 0 else epoch

    async def anchorer(self) -> str:
        return (await self.call(ContractCall(self.contracts.anchor, "anchorer"))).as_address()

    # ------------------------------------------------------------------ escrow: repair jobs

    async def lock_job(self, insurer: Account, job_id: str, shop: AccountRef, amount: int) -> TxReceipt:
        """Freeze `amount` NEOT of `insurer` for repair job `job_id` at `shop`."""
        data: ContractArg = ["job", _id_bytes(job_id), to_script_hash(shop)]
        return await self.send(
            insurer, self.neot_transfer_call(insurer, self.contracts.escrow, amount, data), operation="lock job"
        )

    async def release_job(
        self,
        insurer: Account,
        job_id: str,
        *,
        shop: AccountRef,
        shop_amount: int,
        royalty_account: AccountRef,
        royalty_amount: int,
    ) -> TxReceipt:
        """Job done: pay the shop and royalty, the rest of the locked amount returns to `insurer`."""
        args: list[ContractArg] = [
            _id_bytes(job_id),
            to_script_hash(shop),
            shop_amount,
            to_script_hash(royalty_account),
            royalty_amount,
        ]
        return await self.send(insurer, ContractCall(self.contracts.escrow, "release", args), operation="release job")

    async def refund_job(self, insurer: Account, job_id: str) -> TxReceipt:
        """Job failed: the whole locked amount returns to `insurer`."""
        return await self.send(
            insurer, ContractCall(self.contracts.escrow, "refund", [_id_bytes(job_id)]), operation="refund job"
        )

    async def get_job(self, job_id: str) -> EscrowJob | None:
        items = (await self.call(ContractCall(self.contracts.escrow, "getJob", [_id_bytes(job_id)]))).as_list()
        if not items:
            return None
        return EscrowJob(
            job_id=job_id,
            insurer=items[0].as_address(),
            shop=items[1].as_address(),
            amount=items[2].as_int(),
            state=JobState(items[3].as_int()),
        )

    # ------------------------------------------------------------------ escrow: premiums

    async def deposit_premium(
        self,
        driver: Account,
        policy_id: str,
        *,
        operator: AccountRef,
        amount: int,
        cap_per_period: int,
        end: datetime,
    ) -> TxReceipt:
        """Deposit NEOT against `policy_id`; `operator` may charge at most `cap_per_period` per
        period, the driver may withdraw the rest from `end` on. Top-ups repeat the same terms."""
        if end.tzinfo is None:
            raise ValueError("end must be timezone-aware")
        end_ms = int(end.timestamp() * 1000)
        data: ContractArg = ["premium", _id_bytes(policy_id), to_script_hash(operator), cap_per_period, end_ms]
        return await self.send(
            driver, self.neot_transfer_call(driver, self.contracts.escrow, amount, data), operation="deposit premium"
        )

    async def charge_premium(
        self, operator: Account, policy_id: str, *, period: int, amount: int, statement_hash: bytes
    ) -> TxReceipt:
        """Take one period's premium (once per period, ≤ cap, ≤ deposit) to `operator`."""
        args: list[ContractArg] = [_id_bytes(policy_id), period, amount, statement_hash]
        call = ContractCall(self.contracts.escrow, "charge", args)
        return await self.send(operator, call, operation="charge premium")

    async def withdraw_premium(self, driver: Account, policy_id: str) -> TxReceipt:
        """After the policy's end, return the unused deposit to `driver`."""
        call = ContractCall(self.contracts.escrow, "withdraw", [_id_bytes(policy_id)])
        return await self.send(driver, call, operation="withdraw premium")

    async def get_policy(self, policy_id: str) -> PremiumPolicy | None:
        items = (await self.call(ContractCall(self.contracts.escrow, "getPolicy", [_id_bytes(policy_id)]))).as_list()
        if not items:
            return None
        return PremiumPolicy(
            policy_id=policy_id,
            driver=items[0].as_address(),
            operator=items[1].as_address(),
            cap_per_period=items[2].as_int(),
            end=datetime.fromtimestamp(items[3].as_int() / 1000, tz=UTC),
            balance=items[4].as_int(),
        )

    async def is_charged(self, policy_id: str, period: int) -> bool:
        item = await self.call(ContractCall(self.contracts.escrow, "isCharged", [_id_bytes(policy_id), period]))
        # an absent storage key reads back as the integer 0 rather than false
        return item.as_int() != 0 if item.type is noderpc.StackItemType.INTEGER else item.as_bool()

    # ------------------------------------------------------------------ deployment

    async def deploy_contract(
        self, sender: Account, compiled: CompiledContract, data: ContractArg = None
    ) -> tuple[types.UInt160, TxReceipt]:
        """Deploy `compiled` from `sender`; `data` reaches its `_deploy`."""
        builder = vm.ScriptBuilder()  # type: ignore[no-untyped-call]
        builder.emit_contract_call_with_args(
            native.CONTRACT_HASHES.MANAGEMENT, "deploy", [compiled.nef, compiled.manifest.decode(), data]
        )
        receipt = await self._send_script(sender, builder.to_array(), f"deploy {compiled.name}")
        return self.contract_hash(sender, compiled), receipt

    @staticmethod
    def contract_hash(deployer: AccountRef | Account, compiled: CompiledContract) -> types.UInt160:
        """The hash `compiled` gets when deployed by `deployer` (fixed by sender, NEF checksum, name)."""
        sender = deployer.script_hash if isinstance(deployer, neo_account.Account) else to_script_hash(deployer)
        nef = neo_nef.NEF.deserialize_from_bytes(compiled.nef)
        return contract_utils.get_contract_hash(sender, nef.checksum, compiled.manifest_name)

    async def is_deployed(self, contract_hash: types.UInt160) -> bool:
        async with self._rpc() as rpc:
            try:
                await rpc.get_contract_state(contract_hash)
            except noderpc.JsonRpcError as exc:
                if "unknown contract" in exc.message.lower():
                    return False
                raise
        return True

    # ------------------------------------------------------------------ events

    async def _notifications(
        self, contract: types.UInt160, from_block: int, to_block: int | None
    ) -> tuple[list[tuple[int, str, noderpc.Notification]], int, int]:
        height = await self.block_height()
        last = height - 1 if to_block is None else min(to_block, height - 1)
        found: list[tuple[int, str, noderpc.Notification]] = []
        start = max(from_block, 0)
        async with self._rpc() as rpc:
            for batch_start in range(start, last + 1, _EVENT_BATCH_BLOCKS):
                indexes = range(batch_start, min(batch_start + _EVENT_BATCH_BLOCKS, last + 1))
                payload = [
                    {
                        "jsonrpc": "2.0",
                        "id": index,
                        "method": "getblocknotifications",
                        "params": [index, {"contract": f"0x{contract}"}],
                    }
                    for index in indexes
                ]
                async with rpc.session.post(rpc.url, json=payload) as response:
                    answers: list[dict[str, Any]] = await response.json(content_type=None)
                for answer in sorted(answers, key=lambda a: int(a["id"])):
                    if "error" in answer:
                        error = answer["error"]
                        raise RpcError("getblocknotifications", int(error["code"]), str(error["message"]))
                    for kind, notifications in (answer.get("result") or {}).items():
                        if kind in ("prepersist", "postpersist") or not notifications:
                            continue
                        for raw in notifications:
                            found.append(
                                (int(answer["id"]), str(raw["container"]), noderpc.Notification.from_json(raw))
                            )
        return found, start, last + 1

    async def job_events(
        self, *, from_block: int = 0, to_block: int | None = None, shop: AccountRef | None = None
    ) -> EventPage[JobEvent]:
        """Escrow job events in blocks [from_block, to_block], optionally for one shop: the public
        track record of repair shops, rebuilt from the chain alone."""
        shop_address = _address(shop) if shop is not None else None
        found, first, nxt = await self._notifications(self.contracts.escrow, from_block, to_block)
        events: list[JobEvent] = []
        for block_index, tx_hash, note in found:
            if note.event_name not in JobEventKind.__members__.values():
                continue
            kind = JobEventKind(note.event_name)
            s = note.state.as_list()
            # all three events start (job_id, shop, insurer); LOCKED then has the amount, the
            # settlements have (outcome, amount) and RELEASED adds the royalty and the returned rest
            settled = kind is not JobEventKind.LOCKED
            released = kind is JobEventKind.RELEASED
            event = JobEvent(
                kind,
                s[0].as_bytes().decode(),
                s[1].as_address(),
                s[2].as_address(),
                s[4].as_int() if settled else s[3].as_int(),
                s[3].as_str() if settled else None,
                s[5].as_address() if released else None,
                s[6].as_int() if released else 0,
                s[7].as_int() if released else 0,
                block_index,
                tx_hash,
            )
            if shop_address is None or event.shop == shop_address:
                events.append(event)
        return EventPage(events, first, nxt)

    async def premium_charges(
        self, *, from_block: int = 0, to_block: int | None = None, policy_id: str | None = None
    ) -> EventPage[PremiumCharge]:
        """PremiumCharged events in blocks [from_block, to_block], optionally for one policy."""
        found, first, nxt = await self._notifications(self.contracts.escrow, from_block, to_block)
        events: list[PremiumCharge] = []
        for block_index, tx_hash, note in found:
            if note.event_name != "PremiumCharged":
                continue
            s = note.state.as_list()
            charge = PremiumCharge(
                s[0].as_bytes().decode(),
                s[1].as_address(),
                s[2].as_address(),
                s[3].as_int(),
                s[4].as_int(),
                s[5].as_bytes(),
                block_index,
                tx_hash,
            )
            if policy_id is None or charge.policy_id == policy_id:
                events.append(charge)
        return EventPage(events, first, nxt)

    async def anchored_epochs(self, *, from_block: int = 0, to_block: int | None = None) -> EventPage[AnchoredEpoch]:
        """Anchored events in blocks [from_block, to_block]."""
        found, first, nxt = await self._notifications(self.contracts.anchor, from_block, to_block)
        events = [
            AnchoredEpoch(s[0].as_int(), s[1].as_bytes(), s[2].as_int(), block_index, tx_hash)
            for block_index, tx_hash, note in found
            if note.event_name == "Anchored"
            for s in [note.state.as_list()]
        ]
        return EventPage(events, first, nxt)

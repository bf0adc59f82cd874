"""The client's transaction pipeline and its errors: timeouts, dropped connections, races."""

import asyncio
import json
import socket
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from chain import (
    ChainClient,
    ChainConnectionError,
    ChainTimeoutError,
    ContractFault,
    DeploymentError,
    TransactionFaulted,
)
from tests.chain_fixtures import DeployedChain

pytestmark = [pytest.mark.anyio, pytest.mark.chain]

NEOT = 10**8


@pytest.fixture
def silent_server() -> Iterator[str]:
    """Fake RPC endpoint that accepts connections and never answers (a hung node)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    accepted: list[socket.socket] = []
    stop = threading.Event()

    def serve() -> None:
        server.settimeout(0.05)
        while not stop.is_set():
            try:
                accepted.append(server.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}"
    stop.set()
    thread.join()
    for conn in accepted:
        conn.close()
    server.close()


@pytest.fixture
def hanging_up_server() -> Iterator[str]:
    """Fake RPC endpoint that reads the request and closes the connection (a node that crashed)."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    stop = threading.Event()

    def serve() -> None:
        server.settimeout(0.05)
        while not stop.is_set():
            try:
                conn = server.accept()[0]
            except TimeoutError:
                continue
            conn.recv(65536)
            conn.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}"
    stop.set()
    thread.join()
    server.close()


@pytest.fixture
def cut_after_send(neot_chain: DeployedChain) -> Iterator[str]:
    """Fake RPC proxy in front of the real node: relays every call, but after relaying
    `sendrawtransaction` it drops the connection instead of answering (a network cut at the
    worst moment: the node has the transaction, the client never hears so)."""
    upstream = neot_chain.deployment.rpc_url

    class Relay(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            answer = httpx.post(upstream, content=body, headers={"Content-Type": "application/json"}, timeout=10)
            if b'"sendrawtransaction"' in body:
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer.content)))
            self.end_headers()
            self.wfile.write(answer.content)

        def log_message(self, format: str, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Relay)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()
    thread.join()


async def test_a_cut_after_sending_hands_back_the_hash_to_look_up(
    neot_chain: DeployedChain, cut_after_send: str
) -> None:
    client = ChainClient(cut_after_send, neot_chain.deployment.contracts)
    receiver = neot_chain.address("shop-4")
    before = await neot_chain.client.neot_balance(receiver)
    with pytest.raises(ChainConnectionError) as info:
        await client.transfer_neot(neot_chain.account("driver-3"), receiver, 3)
    assert info.value.tx_hash is not None
    request = {"jsonrpc": "2.0", "id": 1, "method": "getapplicationlog", "params": [info.value.tx_hash]}
    for _ in range(100):
        answer = httpx.post(neot_chain.deployment.rpc_url, json=request, timeout=10).json()
        if "result" in answer:
            break
        await asyncio.sleep(0.05)
    assert answer["result"]["executions"][0]["vmstate"] == "HALT", json.dumps(answer)
    assert await neot_chain.client.neot_balance(receiver) == before + 3


async def test_a_silent_node_is_a_timeout(silent_server: str) -> None:
    client = ChainClient(silent_server, rpc_timeout_s=0.3)
    with pytest.raises(ChainTimeoutError):
        await client.block_height()


async def test_a_dropped_connection_is_a_connection_error(hanging_up_server: str) -> None:
    with pytest.raises(ChainConnectionError):
        await ChainClient(hanging_up_server).block_height()


async def test_nothing_listening_is_a_connection_error() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    with pytest.raises(ChainConnectionError) as info:
        await ChainClient(url).block_height()
    assert not isinstance(info.value, ChainTimeoutError)


async def test_inclusion_timeout_carries_the_hash_of_the_accepted_tx(neot_chain: DeployedChain) -> None:
    impatient = ChainClient.from_deployment(neot_chain.deployment, inclusion_timeout_s=0.0)
    receiver = neot_chain.address("shop-4")
    before = await neot_chain.client.neot_balance(receiver)
    with pytest.raises(ChainTimeoutError) as info:
        await impatient.transfer_neot(neot_chain.account("driver-3"), receiver, NEOT)
    assert info.value.tx_hash is not None and info.value.tx_hash.startswith("0x")
    # the node accepted it: it lands anyway, which is why the hash is handed back
    outcome = None
    for _ in range(100):
        if (outcome := await neot_chain.client.find_transaction(info.value.tx_hash)) is not None:
            break
        await asyncio.sleep(0.05)
    assert outcome is not None and outcome.halted and outcome.vm_exception is None
    assert outcome.tx_hash == info.value.tx_hash
    assert await neot_chain.client.neot_balance(receiver) == before + NEOT
    assert await neot_chain.client.find_transaction("0x" + "00" * 32) is None


async def test_each_transfer_gets_its_own_hash(neot_chain: DeployedChain) -> None:
    """Identical transfers differ only by their random nonce; both must land."""
    client = neot_chain.client
    sender, receiver = neot_chain.account("driver-3"), neot_chain.address("shop-4")
    first = await client.transfer_neot(sender, receiver, 1)
    second = await client.transfer_neot(sender, receiver, 1)
    assert first.tx_hash != second.tx_hash


async def test_racing_settlements_pay_once(neot_chain: DeployedChain) -> None:
    """Two refunds sent at once both pass their test invocation; the chain executes one, the
    other FAULTs (at test time or in its block) and the insurer is refunded exactly once."""
    client, insurer = neot_chain.client, neot_chain.account("insurer-2")
    job = f"race-{uuid.uuid4().hex[:12]}"
    await client.transfer_neot(neot_chain.account("treasury"), insurer.address, 100 * NEOT)
    await client.lock_job(insurer, job, neot_chain.address("shop-1"), 100 * NEOT)
    before = await client.neot_balance(insurer.address)
    results = await asyncio.gather(
        client.refund_job(insurer, job), client.refund_job(insurer, job), return_exceptions=True
    )
    faults = [r for r in results if isinstance(r, ContractFault)]
    assert len(faults) == 1, results
    assert "job is not locked" in faults[0].vm_exception
    if isinstance(faults[0], TransactionFaulted):
        assert faults[0].tx_hash.startswith("0x")
    assert await client.neot_balance(insurer.address) == before + 100 * NEOT


async def test_a_deployment_for_another_network_refuses_to_sign(neot_chain: DeployedChain) -> None:
    client = ChainClient(neot_chain.deployment.rpc_url, neot_chain.deployment.contracts, expected_magic=860833102)
    with pytest.raises(DeploymentError, match="serves network 42"):
        await client.transfer_neot(neot_chain.account("driver-3"), neot_chain.address("shop-4"), 1)

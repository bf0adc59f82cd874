"""The independent proof verifier: reads a NEO node over plain JSON-RPC and checks a proof.

It imports `protocol` and httpx and nothing else of NEOT: no database, no server, no chain SDK.
Anyone holding a proof document and any RPC endpoint of the network can run it, without trusting
NEOT's servers: the root comes from the anchor contract (`getRoot` via `invokefunction`), the
transaction from its application log.
"""

import base64
import binascii
from typing import Any

import httpx

from protocol import (
    Anchor,
    AnchoredEvent,
    ChainView,
    FailureReason,
    Inclusion,
    Proof,
    TxView,
    VerificationError,
    verify,
    verify_inclusion,
)

__all__ = ["ChainReadError", "read_chain", "verify_against_node"]

_UNKNOWN_TX_CODES = frozenset({-100})


class ChainReadError(Exception):
    """The node could not be asked (unreachable, not JSON-RPC, an unexpected error answer)."""


class _Rpc:
    def __init__(self, http: httpx.Client, url: str) -> None:
        self._http, self._url, self._id = http, url, 0

    def call(self, method: str, params: list[Any]) -> Any:
        """The `result` of a call; a JSON-RPC error is returned as `{"error": …}` for the caller to judge."""
        self._id += 1
        try:
            response = self._http.post(
                self._url, json={"jsonrpc": "2.0", "id": self._id, "method": method, "params": params}
            )
            response.raise_for_status()
            body = response.json()
        except (httpx.HTTPError, ValueError) as exc:
            raise ChainReadError(f"{method} at {self._url} failed: {exc}") from exc
        if not isinstance(body, dict) or ("result" not in body and "error" not in body):
            raise ChainReadError(f"{method} at {self._url}: not a JSON-RPC answer")
        return {"error": body["error"]} if "error" in body else body["result"]


def _is_error(result: Any) -> bool:
    return isinstance(result, dict) and set(result) == {"error"}


def _b64(item: dict[str, Any]) -> bytes:
    if item.get("type") not in ("ByteString", "Buffer"):
        raise ValueError(f"expected bytes, got a {item.get('type')}")
    return base64.b64decode(item.get("value") or "", validate=True)


def _read_tx(rpc: _Rpc, tx_hash: str) -> TxView | None:
    log = rpc.call("getapplicationlog", [tx_hash])
    if _is_error(log):
        if log["error"].get("code") in _UNKNOWN_TX_CODES or "unknown" in str(log["error"].get("message")).lower():
            return None
        raise ChainReadError(f"getapplicationlog {tx_hash}: {log['error']}")
    height = rpc.call("gettransactionheight", [tx_hash])
    if _is_error(height) or not isinstance(height, int):
        raise ChainReadError(f"gettransactionheight {tx_hash}: {height}")
    try:
        execution = log["executions"][0]
        events = []
        for note in execution.get("notifications", []):
            if note.get("eventname") != "Anchored":
                continue
            epoch_item, root_item = note["state"]["value"][:2]
            events.append(AnchoredEvent(str(note["contract"]).lower(), int(epoch_item["value"]), _b64(root_item)))
        return TxView(str(execution["vmstate"]), height, tuple(events))
    except (KeyError, IndexError, TypeError, ValueError, binascii.Error) as exc:
        raise ChainReadError(f"unreadable application log of {tx_hash}: {exc!r}") from exc


def read_chain(proof: Proof, rpc_url: str, *, contract: str | None = None, timeout_s: float = 10.0) -> ChainView:
    """Ask the node at `rpc_url` everything `verify` needs about this anchored proof.

    `contract` is the anchor contract the caller trusts; by default the one the proof names.
    """
    if proof.anchor is None or proof.inclusion is None:
        raise ValueError("a pending proof has nothing on chain to read")
    anchor, epoch = proof.anchor, proof.inclusion.epoch
    contract = (contract or anchor.contract).lower()
    contract = contract if contract.startswith("0x") else f"0x{contract}"
    with httpx.Client(timeout=timeout_s) as http:
        rpc = _Rpc(http, rpc_url)
        version = rpc.call("getversion", [])
        try:
            magic = int(version["protocol"]["network"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ChainReadError(f"getversion at {rpc_url} gave no network magic: {version}") from exc
        answer = rpc.call("invokefunction", [contract, "getRoot", [{"type": "Integer", "value": str(epoch)}]])
        contract_ok, root = False, None
        if not _is_error(answer) and answer.get("state") == "HALT":
            try:
                root = _b64(answer["stack"][0]) or None
                contract_ok = True
            except (KeyError, IndexError, TypeError, ValueError, binascii.Error):
                contract_ok = False  # answers getRoot, but not with bytes: not a score anchor
        tx = _read_tx(rpc, anchor.tx)
    return ChainView(magic, contract, contract_ok, epoch, root, tx)


def verify_against_node(
    document: object, rpc_url: str, *, contract: str | None = None, timeout_s: float = 10.0
) -> tuple[Proof, Inclusion, Anchor]:
    """Parse and fully verify a proof document against a node; returns what was proven.

    Raises `MalformedProofError` (not a proof), `VerificationError` (with its reason) or
    `ChainReadError` (the node could not be asked).
    """
    proof = Proof.from_json(document)
    if proof.pending and proof.inclusion is not None:
        verify_inclusion(proof)  # the path can already be checked; then say what is missing
        raise VerificationError(
            FailureReason.PENDING,
            f"the record is in epoch {proof.inclusion.epoch} (root {proof.inclusion.root.hex()}),"
            " which is not anchored yet",
        )
    anchor, inclusion = proof.anchor, proof.inclusion
    if anchor is None or inclusion is None:
        raise VerificationError(FailureReason.PENDING, "the record's epoch is not anchored yet")
    verify(proof, read_chain(proof, rpc_url, contract=contract, timeout_s=timeout_s))
    return proof, inclusion, anchor

"""Trouble-code reports: the OBD-II codes a vehicle currently has stored, signed by its device key.

A report lists every active code (not a delta), so the server can open a repair job for a new
code and count a code that vanished as cleared, however many reports went missing in between.
The signature covers `canonical_json({"codes": [...], "device": "<address>", "sent_ns": <int>})`;
`sent_ns` lets the server refuse a replay outside its time window.
"""

from collections.abc import Sequence

from protocol._canonical import canonical_json
from protocol._keys import DeviceKey

__all__ = ["TROUBLE_CODES_PATH", "sign_trouble_codes", "trouble_codes_message"]

TROUBLE_CODES_PATH = "/v1/devices/trouble-codes"


def trouble_codes_message(device: str, codes: Sequence[str], sent_ns: int) -> bytes:
    """The bytes a trouble-code report's signature covers."""
    return canonical_json({"codes": list(codes), "device": device, "sent_ns": sent_ns})


def sign_trouble_codes(key: DeviceKey, codes: Sequence[str], sent_ns: int) -> dict[str, object]:
    """The JSON body of a report: codes sorted and upper-cased, signed as 64-byte r ‖ s hex."""
    ordered = sorted({code.strip().upper() for code in codes})
    signature = key.sign(trouble_codes_message(key.address, ordered, sent_ns))
    return {"device": key.address, "sent_ns": sent_ns, "codes": ordered, "signature": signature.hex()}

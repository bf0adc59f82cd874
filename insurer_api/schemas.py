"""Constrained field types shared by every request schema of the insurer API.

Limits match the database columns and reject control characters, so a bad value is a clear 422
at the edge rather than a database error (PostgreSQL refuses NUL bytes in text, for one).
"""

from typing import Annotated

from pydantic import Field, StringConstraints

__all__ = ["MAX_ID", "Amount", "Email", "Name", "NeoAddress", "Password", "Vin"]

MAX_ID = 2**63 - 1
_PRINTABLE = r"^[^\x00-\x1f\x7f]*$"

type Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200, pattern=_PRINTABLE)]
_EMAIL_PART = r"[^@\s\x00-\x1f\x7f]+"
type Email = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True, to_lower=True, max_length=320, pattern=rf"^{_EMAIL_PART}@{_EMAIL_PART}\.{_EMAIL_PART}$"
    ),
]
type Password = Annotated[str, StringConstraints(min_length=8, max_length=256, pattern=_PRINTABLE)]
# Base58 N3 address: 34 characters starting with N (version byte 0x35).
type NeoAddress = Annotated[str, StringConstraints(pattern=r"^N[1-9A-HJ-NP-Za-km-z]{33}$")]
# ISO 3779: 17 characters, digits and capitals without I, O and Q.
type Vin = Annotated[str, StringConstraints(strip_whitespace=True, to_upper=True, pattern=r"^[A-HJ-NPR-Z0-9]{17}$")]
type Amount = Annotated[int, Field(ge=0, le=MAX_ID, description="NEOT base units (10^-8 NEOT)")]

"""Escrow for NEOT: repair-job funds frozen until the job ends, and drivers' premium deposits.

Funds only arrive as NEOT payments (`onNEP17Payment` from the token configured at deploy) whose
`data` says what they are for:

- `["job", job_id, shop]`: the paying account (the insurer's operator) locks the amount for a
  repair job at `shop`. Only that account can settle the job, once: `release` pays the shop and
  the royalty account and returns the rest to it, `refund` returns everything to it.
- `["premium", policy_id, operator, cap_per_period, end_ms]`: the paying account (the driver)
  deposits against a policy. `operator` (the insurer's operator, who receives the premiums) may
  `charge` at most `cap_per_period` once per period; the driver may `withdraw` what is left once
  the block time reaches `end_ms`. Further deposits must repeat the same terms.

Every record's state changes before any token leaves the contract, so a re-entrant call sees the
settled state and FAULTs.
"""

from typing import Any

from boa3.sc import runtime, storage
from boa3.sc.compiletime import NeoMetadata, public
from boa3.sc.types import UInt160
from boa3.sc.utils import CreateNewEvent, abort, call_contract, to_bytes


def manifest_metadata() -> NeoMetadata:
    meta = NeoMetadata()
    meta.name = "NEOT Escrow"
    meta.description = "Repair-job escrow and premium deposits of the NEOT insurance platform"
    meta.add_permission(methods=["transfer"])
    return meta


TOKEN_KEY = b"t"

JOB_INSURER_PREFIX = b"ji"
JOB_SHOP_PREFIX = b"js"
JOB_AMOUNT_PREFIX = b"ja"
JOB_STATE_PREFIX = b"jt"

POLICY_DRIVER_PREFIX = b"pd"
POLICY_OPERATOR_PREFIX = b"po"
POLICY_CAP_PREFIX = b"pc"
POLICY_END_PREFIX = b"pe"
POLICY_BALANCE_PREFIX = b"pb"
POLICY_CHARGED_PREFIX = b"pk"

JOB_LOCKED = 1
JOB_RELEASED = 2
JOB_REFUNDED = 3

MAX_ID_LENGTH = 64
HASH_LENGTH = 32

on_job_locked = CreateNewEvent(
    [
        ("job_id", bytes),
        ("shop", UInt160),
        ("insurer", UInt160),
        ("amount", int),
    ],
    "JobLocked",
)

on_job_released = CreateNewEvent(
    [
        ("job_id", bytes),
        ("shop", UInt160),
        ("insurer", UInt160),
        ("outcome", str),
        ("shop_amount", int),
        ("royalty_account", UInt160),
        ("royalty_amount", int),
        ("returned_amount", int),
    ],
    "JobReleased",
)

on_job_refunded = CreateNewEvent(
    [
        ("job_id", bytes),
        ("shop", UInt160),
        ("insurer", UInt160),
        ("outcome", str),
        ("amount", int),
    ],
    "JobRefunded",
)

on_premium_deposited = CreateNewEvent(
    [
        ("policy_id", bytes),
        ("driver", UInt160),
        ("operator", UInt160),
        ("amount", int),
        ("cap_per_period", int),
        ("end_ms", int),
    ],
    "PremiumDeposited",
)

on_premium_charged = CreateNewEvent(
    [
        ("policy_id", bytes),
        ("driver", UInt160),
        ("operator", UInt160),
        ("period", int),
        ("amount", int),
        ("statement_hash", bytes),
    ],
    "PremiumCharged",
)

on_premium_withdrawn = CreateNewEvent(
    [
        ("policy_id", bytes),
        ("driver", UInt160),
        ("amount", int),
    ],
    "PremiumWithdrawn",
)


# -------------------------------------------
# Read methods
# -------------------------------------------


@public(safe=True)
def token() -> UInt160:
    return storage.get_uint160(TOKEN_KEY)


@public(name="getJob", safe=True)
def get_job(job_id: bytes) -> list:
    """[insurer, shop, amount, state] with state 1 locked, 2 released, 3 refunded; [] if unknown."""
    state = storage.get_int(JOB_STATE_PREFIX + job_id)
    if state == 0:
        return []
    return [
        storage.get_uint160(JOB_INSURER_PREFIX + job_id),
        storage.get_uint160(JOB_SHOP_PREFIX + job_id),
        storage.get_int(JOB_AMOUNT_PREFIX + job_id),
        state,
    ]


@public(name="getPolicy", safe=True)
def get_policy(policy_id: bytes) -> list:
    """[driver, operator, cap_per_period, end_ms, balance]; [] if no deposit was ever made."""
    driver = storage.get(POLICY_DRIVER_PREFIX + policy_id)
    if len(driver) == 0:
        return []
    return [
        storage.get_uint160(POLICY_DRIVER_PREFIX + policy_id),
        storage.get_uint160(POLICY_OPERATOR_PREFIX + policy_id),
        storage.get_int(POLICY_CAP_PREFIX + policy_id),
        storage.get_int(POLICY_END_PREFIX + policy_id),
        storage.get_int(POLICY_BALANCE_PREFIX + policy_id),
    ]


@public(name="isCharged", safe=True)
def is_charged(policy_id: bytes, period: int) -> bool:
    return storage.get_bool(_charged_key(policy_id, period))


# -------------------------------------------
# Funds in
# -------------------------------------------


@public(name="onNEP17Payment")
def on_nep17_payment(from_address: UInt160, amount: int, data: Any) -> None:
    # NEOT never mints after deploy, so `from_address` is always an account here; a null one FAULTs.
    assert runtime.calling_script_hash == token(), "only NEOT is accepted"
    assert len(from_address) == 20, "payer must be a 20-byte account"
    assert amount > 0, "amount must be positive"
    assert isinstance(data, list), "payment data must be a list"
    fields: list = data
    assert len(fields) >= 1, "payment data must name its purpose"
    kind: str = fields[0]
    if kind == "job":
        assert len(fields) == 3, "job data is [job, job_id, shop]"
        job_id: bytes = fields[1]
        shop: UInt160 = fields[2]
        _lock_job(from_address, amount, job_id, shop)
    elif kind == "premium":
        assert len(fields) == 5, "premium data is [premium, policy_id, operator, cap_per_period, end_ms]"
        policy_id: bytes = fields[1]
        operator: UInt160 = fields[2]
        cap_per_period: int = fields[3]
        end_ms: int = fields[4]
        _deposit_premium(from_address, amount, policy_id, operator, cap_per_period, end_ms)
    else:
        abort("unknown payment purpose")


def _lock_job(insurer: UInt160, amount: int, job_id: bytes, shop: UInt160) -> None:
    _check_id(job_id)
    assert isinstance(shop, UInt160) and len(shop) == 20, "shop must be a 20-byte account"
    assert storage.get_int(JOB_STATE_PREFIX + job_id) == 0, "job id already used"
    storage.put_uint160(JOB_INSURER_PREFIX + job_id, insurer)
    storage.put_uint160(JOB_SHOP_PREFIX + job_id, shop)
    storage.put_int(JOB_AMOUNT_PREFIX + job_id, amount)
    storage.put_int(JOB_STATE_PREFIX + job_id, JOB_LOCKED)
    on_job_locked(job_id, shop, insurer, amount)


def _deposit_premium(
    driver: UInt160, amount: int, policy_id: bytes, operator: UInt160, cap_per_period: int, end_ms: int
) -> None:
    _check_id(policy_id)
    assert isinstance(operator, UInt160) and len(operator) == 20, "operator must be a 20-byte account"
    assert isinstance(cap_per_period, int) and cap_per_period > 0, "cap per period must be positive"
    assert isinstance(end_ms, int) and end_ms > runtime.time, "policy end must be in the future"
    existing = storage.get(POLICY_DRIVER_PREFIX + policy_id)
    if len(existing) == 0:
        storage.put_uint160(POLICY_DRIVER_PREFIX + policy_id, driver)
        storage.put_uint160(POLICY_OPERATOR_PREFIX + policy_id, operator)
        storage.put_int(POLICY_CAP_PREFIX + policy_id, cap_per_period)
        storage.put_int(POLICY_END_PREFIX + policy_id, end_ms)
    else:
        assert storage.get_uint160(POLICY_DRIVER_PREFIX + policy_id) == driver, "policy belongs to another driver"
        assert storage.get_uint160(POLICY_OPERATOR_PREFIX + policy_id) == operator, "operator differs"
        assert storage.get_int(POLICY_CAP_PREFIX + policy_id) == cap_per_period, "cap differs"
        assert storage.get_int(POLICY_END_PREFIX + policy_id) == end_ms, "end differs"
    balance = storage.get_int(POLICY_BALANCE_PREFIX + policy_id) + amount
    storage.put_int(POLICY_BALANCE_PREFIX + policy_id, balance)
    on_premium_deposited(policy_id, driver, operator, amount, cap_per_period, end_ms)


# -------------------------------------------
# Funds out
# -------------------------------------------


@public
def release(job_id: bytes, shop: UInt160, shop_amount: int, royalty_account: UInt160, royalty_amount: int) -> None:
    """Job done: pay the shop and the royalty account, return the rest to the insurer."""
    assert storage.get_int(JOB_STATE_PREFIX + job_id) == JOB_LOCKED, "job is not locked"
    insurer = storage.get_uint160(JOB_INSURER_PREFIX + job_id)
    assert runtime.check_witness(insurer), "only the insurer that locked the job may settle it"
    assert shop == storage.get_uint160(JOB_SHOP_PREFIX + job_id), "shop differs from the locked job"
    assert len(royalty_account) == 20, "royalty account must be 20 bytes"
    assert shop_amount > 0, "shop amount must be positive"
    assert royalty_amount >= 0, "royalty amount must not be negative"
    locked = storage.get_int(JOB_AMOUNT_PREFIX + job_id)
    assert shop_amount + royalty_amount <= locked, "payout exceeds the locked amount"
    returned = locked - shop_amount - royalty_amount
    storage.put_int(JOB_STATE_PREFIX + job_id, JOB_RELEASED)
    _pay(shop, shop_amount)
    _pay(royalty_account, royalty_amount)
    _pay(insurer, returned)
    on_job_released(job_id, shop, insurer, "completed", shop_amount, royalty_account, royalty_amount, returned)


@public
def refund(job_id: bytes) -> None:
    """Job failed: everything locked goes back to the insurer."""
    assert storage.get_int(JOB_STATE_PREFIX + job_id) == JOB_LOCKED, "job is not locked"
    insurer = storage.get_uint160(JOB_INSURER_PREFIX + job_id)
    assert runtime.check_witness(insurer), "only the insurer that locked the job may settle it"
    locked = storage.get_int(JOB_AMOUNT_PREFIX + job_id)
    storage.put_int(JOB_STATE_PREFIX + job_id, JOB_REFUNDED)
    _pay(insurer, locked)
    on_job_refunded(job_id, storage.get_uint160(JOB_SHOP_PREFIX + job_id), insurer, "failed", locked)


@public
def charge(policy_id: bytes, period: int, amount: int, statement_hash: bytes) -> None:
    """The insurer's operator takes one period's premium, at most the cap and the balance."""
    driver_raw = storage.get(POLICY_DRIVER_PREFIX + policy_id)
    assert len(driver_raw) == 20, "unknown policy"
    operator = storage.get_uint160(POLICY_OPERATOR_PREFIX + policy_id)
    assert runtime.check_witness(operator), "only the policy's operator may charge"
    assert period >= 0, "period must not be negative"
    assert len(statement_hash) == HASH_LENGTH, "statement hash must be 32 bytes"
    assert amount > 0, "amount must be positive"
    assert amount <= storage.get_int(POLICY_CAP_PREFIX + policy_id), "amount exceeds the cap per period"
    balance = storage.get_int(POLICY_BALANCE_PREFIX + policy_id)
    assert amount <= balance, "amount exceeds the deposit"
    charged_key = _charged_key(policy_id, period)
    assert not storage.get_bool(charged_key), "period already charged"
    storage.put_bool(charged_key, True)
    storage.put_int(POLICY_BALANCE_PREFIX + policy_id, balance - amount)
    _pay(operator, amount)
    on_premium_charged(
        policy_id, storage.get_uint160(POLICY_DRIVER_PREFIX + policy_id), operator, period, amount, statement_hash
    )


@public
def withdraw(policy_id: bytes) -> None:
    """After the policy ends, the driver takes back what was not charged."""
    driver_raw = storage.get(POLICY_DRIVER_PREFIX + policy_id)
    assert len(driver_raw) == 20, "unknown policy"
    driver = storage.get_uint160(POLICY_DRIVER_PREFIX + policy_id)
    assert runtime.check_witness(driver), "only the depositing driver may withdraw"
    assert runtime.time >= storage.get_int(POLICY_END_PREFIX + policy_id), "policy has not ended"
    balance = storage.get_int(POLICY_BALANCE_PREFIX + policy_id)
    assert balance > 0, "nothing to withdraw"
    storage.put_int(POLICY_BALANCE_PREFIX + policy_id, 0)
    _pay(driver, balance)
    on_premium_withdrawn(policy_id, driver, balance)


# -------------------------------------------
# Internals
# -------------------------------------------


def _check_id(identifier: bytes) -> None:
    assert isinstance(identifier, bytes), "id must be a byte string"
    assert 0 < len(identifier) <= MAX_ID_LENGTH, "id must be 1 to 64 bytes"


def _charged_key(policy_id: bytes, period: int) -> bytes:
    # the length byte keeps (id, period) pairs from colliding when ids have different lengths
    return POLICY_CHARGED_PREFIX + to_bytes(len(policy_id)) + policy_id + to_bytes(period)


def _pay(to: UInt160, amount: int) -> None:
    if amount > 0:
        result = call_contract(token(), "transfer", [runtime.executing_script_hash, to, amount, None])
        assert isinstance(result, bool), "token transfer returned no boolean"
        paid: bool = result
        assert paid, "token transfer failed"


@public
def _deploy(data: Any, update: bool) -> None:
    if not update:
        neot: UInt160 = data
        assert isinstance(neot, UInt160) and len(neot) == 20, "deploy data must be the NEOT token hash"
        storage.put_uint160(TOKEN_KEY, neot)

"""A payer process that dies mid-payment, for the crash-recovery tests (a FAULT INJECTION).

Run as `python crash_payer.py <stage> [charge|lock|release]` with the inputs in environment variables. It
charges one statement (or opens a repair job, which locks its authorisation, or approves one,
which releases the payout) through the real
payment code, but its gateway kills its own process with SIGKILL at
`<stage>`: `before-send` (intent committed, nothing sent) or `after-send` (the node has the
transaction, the payment is not confirmed). Nothing runs after the kill: no cleanup, no commit.
"""

import asyncio
import os
import signal
import sys

from neo3.core import types
from neo3.wallet.account import Account

from insurer_api.payments import EscrowGateway
from insurer_api.payments._premiums import charge_statement
from insurer_api.repair._service import approve, open_job
from models import Policy, RepairJob, Statement, make_engine, make_session_factory


class DyingGateway(EscrowGateway):
    """The real gateway, except that it kills the process at the chosen stage of `send`."""

    stage = "before-send"

    async def send(self, raw: bytes) -> None:
        if self.stage == "before-send":
            os.kill(os.getpid(), signal.SIGKILL)
        await super().send(raw)
        os.kill(os.getpid(), signal.SIGKILL)


def main() -> None:
    env = os.environ
    insurer = Account.from_private_key(bytes.fromhex(env["CRASH_INSURER_KEY"]))
    gateway = DyingGateway(
        rpc_url=env["CRASH_RPC_URL"],
        token_hash=types.UInt160.from_string(env["CRASH_TOKEN"]),
        escrow_hash=types.UInt160.from_string(env["CRASH_ESCROW"]),
        signers={insurer.address: insurer},
        valid_for_blocks=int(env["CRASH_VALID_BLOCKS"]),
    )
    gateway.stage = sys.argv[1]
    engine = make_engine(env["CRASH_DATABASE_URL"])
    with make_session_factory(engine)() as session:
        if sys.argv[2:] == ["release"]:
            job = session.get(RepairJob, int(env["CRASH_JOB_ID"]))
            assert job is not None
            asyncio.run(approve(session, gateway, job=job, reason="approved by the insurer"))
        elif sys.argv[2:] == ["lock"]:
            policy = session.get(Policy, int(env["CRASH_POLICY_ID"]))
            assert policy is not None
            asyncio.run(
                open_job(
                    session,
                    gateway,
                    policy=policy,
                    service="dtc:P0301",
                    authorised_amount=10**9,
                    opened_by="dtc",
                    royalty_address=env["CRASH_ROYALTY"],
                    dtc="P0301",
                )
            )
        else:
            statement = session.get(Statement, int(env["CRASH_STATEMENT_ID"]))
            assert statement is not None
            asyncio.run(charge_statement(session, gateway, statement))
    raise SystemExit("the payment finished: the fault was never injected")


if __name__ == "__main__":
    main()

"""`/v1/policies/{id}/deposit(s)`: a driver's premium deposit in escrow, and booking one.

The driver sends NEOT to the escrow contract from their own wallet with data
`["premium", <chain policy id>, <insurer operator>, <cap per period>, <end ms>]`; the GET tells
them the id and operator to use, the POST books the transaction in the ledger (reconciliation
books any it was not told about).
"""

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field, StringConstraints
from sqlalchemy.orm import Session

from insurer_api.access import get_visible, policy_visible
from insurer_api.deps import CurrentUser, ObjectId, SessionDep, require_role
from insurer_api.errors import InvalidRequestError
from insurer_api.payments._app import IdempotencyKey, gateway_of, run_idempotent
from insurer_api.payments._errors import PaymentError
from insurer_api.payments._ledger import balance, deposit_account
from insurer_api.payments._premiums import policy_chain_id, record_deposit
from models import Insurer, Policy, Role

__all__ = ["DepositBody", "DepositPublic", "router"]

router = APIRouter(prefix="/v1", tags=["payments"])


class DepositBody(BaseModel):
    tx_hash: Annotated[str, StringConstraints(pattern=r"^0x[0-9a-fA-F]{64}$")] = Field(
        description="The driver's deposit transaction"
    )


class DepositPublic(BaseModel):
    """Where the policy's deposit lives on chain and what the ledger holds for it."""

    policy_id: int
    chain_policy_id: str = Field(description="The id to name in the escrow deposit's data")
    operator: str = Field(description="The insurer's operator account, which charges the premiums")
    ledger_balance: int
    booked: int = Field(default=0, description="Amount newly booked by this request")


def _view(session: Session, policy: Policy, booked: int = 0) -> DepositPublic:
    insurer = session.get_one(Insurer, policy.insurer_id)
    return DepositPublic(
        policy_id=policy.id,
        chain_policy_id=policy_chain_id(insurer_address=insurer.neo_address, policy_id=policy.id),
        operator=insurer.neo_address,
        ledger_balance=balance(session, deposit_account(policy.id)),
        booked=booked,
    )


@router.get(
    "/policies/{policy_id}/deposit",
    response_model=DepositPublic,
    dependencies=[require_role(Role.ADMIN, Role.INSURER, Role.DRIVER)],
    summary="The policy's premium deposit: how to fund it, what the ledger holds",
)
def get_deposit(policy_id: ObjectId, user: CurrentUser, session: SessionDep) -> DepositPublic:
    policy = get_visible(
        session=session, model=Policy, object_id=policy_id, visible=policy_visible(user), kind="policy"
    )
    return _view(session, policy)


@router.post(
    "/policies/{policy_id}/deposits",
    response_model=DepositPublic,
    dependencies=[require_role(Role.DRIVER)],
    summary="Book a deposit transaction the driver sent",
)
def post_deposit(
    policy_id: ObjectId,
    body: DepositBody,
    idempotency_key: IdempotencyKey,
    user: CurrentUser,
    session: SessionDep,
    request: Request,
) -> Response:
    policy = get_visible(
        session=session, model=Policy, object_id=policy_id, visible=policy_visible(user), kind="policy"
    )
    gateway = gateway_of(request)

    def work() -> tuple[int, dict[str, Any]]:
        try:
            booked = asyncio.run(record_deposit(session, gateway, policy=policy, tx_hash=body.tx_hash.lower()))
        except PaymentError as exc:
            if type(exc) is PaymentError:  # not on chain, or no deposit for this policy in it
                raise InvalidRequestError(str(exc)) from exc
            raise
        return 200, _view(session, policy, booked).model_dump(mode="json")

    return run_idempotent(
        request, session, principal=f"user:{user.id}", key=idempotency_key, body=body.model_dump(mode="json"), work=work
    )

"""Read the anchored epochs. A root is a commitment to salted records, so it reveals no score;
every signed-in user may list them, and anyone can read the same roots from the chain."""

from datetime import datetime

from fastapi import APIRouter, Response
from pydantic import BaseModel
from sqlalchemy import select

from insurer_api.deps import CurrentUser, SessionDep
from insurer_api.pagination import PageDep, paged, respond
from models import EpochState, ScoreEpoch

__all__ = ["EpochPublic", "router"]

router = APIRouter(prefix="/v1", tags=["epochs"])


class EpochPublic(BaseModel):
    epoch: int
    state: EpochState
    leaf_count: int
    root: str | None
    tx_hash: str | None
    block: int | None
    opened_at: datetime
    closed_at: datetime | None


@router.get("/epochs", response_model=list[EpochPublic], summary="Score epochs and their anchors, newest first")
def get_epochs(user: CurrentUser, session: SessionDep, page: PageDep, response: Response) -> list[EpochPublic]:
    query = page.apply(select(ScoreEpoch), ScoreEpoch.epoch, descending=True)
    epochs = paged(session.scalars(query).all(), page, lambda e: (e.epoch,))
    return [
        EpochPublic(
            epoch=e.epoch,
            state=e.state,
            leaf_count=e.leaf_count,
            root=e.root.hex() if e.root else None,
            tx_hash=e.tx_hash,
            block=e.block,
            opened_at=e.opened_at,
            closed_at=e.closed_at,
        )
        for e in respond(response, page, epochs)
    ]

"""Read the anchored epochs. A root is a commitment to salted records, so it reveals no score;
every signed-in user may list them, and anyone can read the same roots from the chain."""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel
from sqlalchemy import select

from insurer_api.deps import CurrentUser, SessionDep
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
def get_epochs(
    user: CurrentUser,
    session: SessionDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[EpochPublic]:
    rows = session.scalars(select(ScoreEpoch).order_by(ScoreEpoch.epoch.desc()).limit(limit))
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
        for e in rows
    ]

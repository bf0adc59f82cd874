"""`/v1/trips`, `/v1/scores`: read-only views of what scoring made of the uploads."""

from typing import Annotated

from fastapi import APIRouter, Query, Response

from insurer_api.deps import CurrentUser, ObjectId, SessionDep, require_role
from insurer_api.pagination import PageDep, respond
from insurer_api.responses import model_response
from insurer_api.schemas import MAX_ID
from insurer_api.trips._crud import get_score, get_track, get_trip, list_scores, list_trips
from insurer_api.trips._schemas import ScorePublic, TrackPublic, TripDetail, TripPublic
from models import Role

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["trips"], dependencies=[require_role(Role.ADMIN, Role.INSURER, Role.DRIVER)])

_NS = Query(ge=0, le=MAX_ID, description="UTC nanoseconds since the epoch")


@router.get("/trips", response_model=list[TripPublic], summary="Trips you may see, oldest first")
def get_trips(
    user: CurrentUser,
    session: SessionDep,
    page: PageDep,
    response: Response,
    vehicle_id: Annotated[int | None, Query(ge=1, le=MAX_ID)] = None,
    since_ns: Annotated[int | None, _NS] = None,
    until_ns: Annotated[int | None, _NS] = None,
) -> list[TripPublic]:
    result = list_trips(
        session=session, viewer=user, vehicle_id=vehicle_id, since_ns=since_ns, until_ns=until_ns, page=page
    )
    return respond(response, page, result)


@router.get("/trips/{trip_id}", response_model=TripDetail, summary="One trip with its events")
def get_one_trip(trip_id: ObjectId, user: CurrentUser, session: SessionDep) -> TripDetail:
    return get_trip(session=session, viewer=user, trip_id=trip_id)


@router.get("/trips/{trip_id}/track", response_model=TrackPublic, summary="Where one trip went, for a map")
def get_trip_track(
    trip_id: ObjectId,
    user: CurrentUser,
    session: SessionDep,
    max_points: Annotated[int, Query(ge=2, le=5000)] = 1000,
) -> TrackPublic:
    return get_track(session=session, viewer=user, trip_id=trip_id, max_points=max_points)


@router.get("/trips/{trip_id}/scores", response_model=list[ScorePublic], summary="A trip's scores")
def get_trip_scores(
    trip_id: ObjectId, user: CurrentUser, session: SessionDep, page: PageDep, response: Response
) -> list[ScorePublic]:
    result = list_scores(session=session, viewer=user, trip_id=trip_id, page=page)
    return [ScorePublic.model_validate(s) for s in respond(response, page, result)]


@router.get("/scores/{score_id}", response_model=ScorePublic, summary="One trip score with its reasons")
def get_one_score(score_id: ObjectId, user: CurrentUser, session: SessionDep) -> Response:
    return model_response(ScorePublic.model_validate(get_score(session=session, viewer=user, score_id=score_id)))

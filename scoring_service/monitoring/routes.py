"""`GET /health` and `GET /metrics` of the HTTP services (scoring service, insurer API).

`/health` answers without the database or a token, so load balancers (and benchmarks, as the
baseline) measure the HTTP stack alone; `/metrics` is the Prometheus text format of this process.
"""

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, generate_latest
from pydantic import BaseModel

from neot import __version__

__all__ = ["router"]

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str
    version: str


@router.get("/health", response_model=Health, summary="Liveness")
def health() -> Health:
    return Health(status="ok", version=__version__)


@router.get(
    "/metrics",
    response_class=Response,
    summary="Prometheus metrics of this process",
    responses={200: {"content": {CONTENT_TYPE_LATEST: {}}, "description": "Prometheus text exposition format"}},
)
def metrics() -> Response:
    return Response(generate_latest(REGISTRY), media_type=CONTENT_TYPE_LATEST)

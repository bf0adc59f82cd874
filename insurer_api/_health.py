"""`GET /health`: answers without the database or a token, so load balancers (and benchmarks, as
the baseline) measure the HTTP stack alone."""

from fastapi import APIRouter
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

"""Serve the dashboard page, its assets and the offline road layer."""

import csv
import gzip
from functools import cache
from pathlib import Path

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from scoring_service.speedlimits import DEFAULT_SEGMENTS_FILE

__all__ = ["mount_dashboard", "road_layer"]

_STATIC = Path(__file__).resolve().parent / "static"

router = APIRouter(include_in_schema=False)


@router.get("/")
def index() -> FileResponse:
    """The single page; it signs in against `/v1/auth/token` like any client."""
    return FileResponse(_STATIC / "index.html", media_type="text/html")


@router.get("/dashboard/roads.geojson")
def roads() -> JSONResponse:
    """The base layer: every road segment of the shipped OSM extract (public data, no sign-in)."""
    return JSONResponse(road_layer(), headers={"Cache-Control": "public, max-age=86400"})


@cache
def road_layer(segments_file: Path = DEFAULT_SEGMENTS_FILE) -> dict[str, object]:
    """A GeoJSON MultiLineString of the extract's segments ([lon, lat] pairs, as GeoJSON orders)."""
    with gzip.open(segments_file, "rt", encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))[1:]
    lines = [[[float(r[3]), float(r[2])], [float(r[5]), float(r[4])]] for r in rows]
    return {
        "type": "Feature",
        "properties": {"attribution": "© OpenStreetMap contributors, ODbL"},
        "geometry": {"type": "MultiLineString", "coordinates": lines},
    }


def mount_dashboard(app: FastAPI) -> None:
    """Add the page, its static assets and the road layer to `app`."""
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=_STATIC), name="dashboard-static")

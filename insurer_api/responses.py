"""Answering with a model already built: serialised once, straight to bytes.

FastAPI validates a sync handler's returned model against `response_model` again, on a worker
thread of its own, before serialising it: a second thread hop and a second validation per request.
The hot reads build their response models themselves, so they hand back the bytes (the route keeps
`response_model`, which still documents the body in OpenAPI).
"""

from fastapi import Response
from pydantic import BaseModel

__all__ = ["model_response"]


def model_response(model: BaseModel, *, status_code: int = 200) -> Response:
    """`model` as a JSON response, serialised by pydantic in this thread."""
    return Response(content=model.model_dump_json(), status_code=status_code, media_type="application/json")

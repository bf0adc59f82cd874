"""`POST /v1/ingest/batches`: where devices upload their samples."""

from typing import Annotated, Any, Protocol

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect

from protocol import encode_signal
from scoring_service.api_deps import SessionFactoryDep
from scoring_service.devices import DeviceEdgeError
from scoring_service.ingest._body import read_limited_body
from scoring_service.ingest._decode import DecodedBatch
from scoring_service.ingest._errors import StorageBusyError
from scoring_service.ingest._service import IngestLimits, accept_batch, verify_batch

__all__ = ["BatchSink", "IngestLimitsDep", "get_ingest_limits", "router"]


class BatchSink(Protocol):
    """Where verified batches go instead of the database (`app.state.batch_stream`): the stream."""

    async def append(self, *, device_id: int, batch: DecodedBatch, body: bytes) -> None:
        """Return once the batch is held durably; raise `StorageBusyError` otherwise."""
        ...


router = APIRouter(prefix="/v1/ingest", tags=["ingest"])

_DEFAULT_LIMITS = IngestLimits()


def get_ingest_limits(request: Request) -> IngestLimits:
    """The app's limits (`app.state.ingest_limits`), or the protocol's defaults."""
    limits: IngestLimits = getattr(request.app.state, "ingest_limits", _DEFAULT_LIMITS)
    return limits


type IngestLimitsDep = Annotated[IngestLimits, Depends(get_ingest_limits)]

_ERROR = {"content": {"application/json": {"example": {"detail": "what is wrong"}}}}
_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "Stored now or before: the Ack signal (highest stored seq, pending Configure)",
        "content": {"application/json": {"example": {"type": "ack", "seq": 42}}},
    },
    401: {"description": "Signature does not verify with the registered key", **_ERROR},
    403: {"description": "Device not registered", **_ERROR},
    409: {"description": "This seq is stored with other content", **_ERROR},
    413: {"description": "Body, or body after decompression, over the limit", **_ERROR},
    415: {"description": "Content-Encoding other than gzip", **_ERROR},
    422: {"description": "Not a well-formed batch, or implausible samples; names the field", **_ERROR},
    503: {"description": "Database busy or unreachable: nothing stored, retry after `Retry-After` s", **_ERROR},
}
_BODY = {
    "requestBody": {
        "required": True,
        "description": 'A signed batch, `{"batch": {...}, "sig": "<hex>"}` (see `protocol`), optionally gzip',
        "content": {"application/json": {"schema": {"type": "object", "required": ["batch", "sig"]}}},
    }
}


@router.post("/batches", responses=_RESPONSES, openapi_extra=_BODY, response_class=Response)
async def post_batch(request: Request, factory: SessionFactoryDep, limits: IngestLimitsDep) -> Response:
    """Store a signed batch once per (device, seq) and acknowledge it.

    The body is read here, chunk by chunk under the size limit, so an oversized or inflating
    body is refused before it is held in memory; decoding and the database run on a worker thread.
    With a batch stream (`NEOT_STREAM_URL`) the verified batch is appended to it instead of stored,
    and acknowledged once the stream holds it; a stream that does not confirm is a 503.
    """
    try:
        body = await read_limited_body(
            request.stream(),
            content_encoding=request.headers.get("content-encoding"),
            content_length=request.headers.get("content-length"),
            max_bytes=limits.max_body_bytes,
        )
        sink: BatchSink | None = getattr(request.app.state, "batch_stream", None)
        if sink is None:
            ack = await run_in_threadpool(accept_batch, factory, body, limits=limits)
        else:
            verified = await run_in_threadpool(verify_batch, factory, body, limits=limits)
            if not verified.stored:
                await sink.append(device_id=verified.device_id, batch=verified.batch, body=body)
            ack = verified.ack
    except ClientDisconnect:
        # The device went away mid-upload; nothing was stored and nobody reads this answer.
        return Response(status_code=400)
    except StorageBusyError as exc:
        return JSONResponse(
            {"detail": exc.message, "field": None},
            status_code=exc.status_code,
            headers={"Retry-After": str(exc.retry_after_s)},
        )
    except DeviceEdgeError as exc:
        return JSONResponse({"detail": exc.message, "field": exc.field}, status_code=exc.status_code)
    return Response(encode_signal(ack), media_type="application/json")

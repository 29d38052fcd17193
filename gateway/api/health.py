"""``GET /health``: whether the store and the index can be used (503 when either cannot),
with their URLs (passwords redacted) and document counts."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from gateway.api.deps import ResourcesDep
from gateway.api.models import HealthOut
from gateway.store.repository import count_documents
from normalizers.urls import redact_url

__all__ = ["router"]

router = APIRouter(tags=["health"])


@router.get("/health", response_model=HealthOut,
            responses={503: {"model": HealthOut, "description": "The store or the index cannot be used"}})
def health(resources: ResourcesDep) -> JSONResponse:
    resources.open()  # a resource that failed is tried again here (at most every RETRY_SECONDS)
    settings = resources.settings
    out = HealthOut(status="ok", store=redact_url(settings.database_url), index=redact_url(settings.index_url),
                    errors=resources.errors())
    if resources.store is not None:
        try:
            with resources.store.session() as session:
                out.documents = count_documents(session)
        except Exception as exc:  # noqa: BLE001 - reported, not raised
            out.errors["store"] = f"{type(exc).__name__}: {exc}"
    if resources.index is not None:
        try:
            out.indexed = resources.index.count()
        except Exception as exc:  # noqa: BLE001
            out.errors["index"] = f"{type(exc).__name__}: {exc}"
    failed = {"store", "index"} & set(out.errors)
    if failed:
        out.status = "error"
    return JSONResponse(status_code=503 if failed else 200, content=out.model_dump(mode="json"))

"""Liveness and database reachability; open without a token (for load balancers)."""

from __future__ import annotations

import sqlalchemy as sa
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from api.deps import get_store
from api.schemas import Health
from schedsearch.core.errors import SchemaError

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health, responses={503: {"model": Health}})
def healthz(request: Request) -> JSONResponse:
    try:
        get_store(request).ping()
    except (sa.exc.SQLAlchemyError, SchemaError) as exc:
        body = {"status": "unavailable", "database": type(exc).__name__}
        return JSONResponse(body, status_code=503)
    return JSONResponse({"status": "ok", "database": "ok"})

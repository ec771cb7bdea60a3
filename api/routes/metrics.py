"""Prometheus metrics of the whole fleet (token-protected like the rest: Prometheus can send
bearer tokens)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from api.auth import require_token
from api.deps import StoreDep
from api.metrics import registry

router = APIRouter(tags=["operations"], dependencies=[Depends(require_token)])


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}}, 401: {"description": "bad token"}},
)
def metrics(store: StoreDep) -> Response:
    return Response(generate_latest(registry(store)), media_type=CONTENT_TYPE_LATEST)

"""Prometheus metrics of the whole fleet (token-protected like the rest: Prometheus can send
bearer tokens)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from api.auth import require_token
from api.deps import get_store
from api.metrics import registry
from schedsearch.store import Store

router = APIRouter(tags=["operations"], dependencies=[Depends(require_token)])


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}}, 401: {"description": "bad token"}},
)
def metrics(store: Annotated[Store, Depends(get_store)]) -> Response:
    return Response(generate_latest(registry(store)), media_type=CONTENT_TYPE_LATEST)

"""Plots as PNG, and the HTML status pages built on them."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import HTMLResponse

from api import pages
from api.auth import require_token, require_token_or_query
from api.deps import StoreDep
from schedsearch.reports.plots import KINDS, PlotKind, render
from schedsearch.reports.results import best_config, study_status

ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "missing or wrong token"},
    404: {"description": "no such study"},
}
plots = APIRouter(tags=["plots"], dependencies=[Depends(require_token)])
ui = APIRouter(
    tags=["ui"], dependencies=[Depends(require_token_or_query)], default_response_class=HTMLResponse
)


@plots.get(
    "/studies/{study}/plots/{kind}",
    response_class=Response,
    responses={200: {"content": {"image/png": {}}}, **ERRORS},
)
def plot(study: str, kind: PlotKind, store: StoreDep) -> Response:
    """history, lr (LR curves of the top trials), curves (learning curves) or importance."""
    info = store.studies.get(study)
    trials = store.trials.all(info)
    return Response(render(kind, trials, info.spec), media_type="image/png")


@ui.get("/ui", responses={401: ERRORS[401]})
def study_list(request: Request, store: StoreDep) -> str:
    studies, _ = store.studies.list(limit=100)
    return pages.study_list(
        [study_status(store, s.id) for s in studies], request.query_params.get("token")
    )


@ui.get("/ui/studies/{study}", responses=ERRORS)
def study_page(study: str, request: Request, store: StoreDep) -> str:
    status = study_status(store, study)
    info = status["spec"]
    found = store.studies.get(status["id"])
    trials = store.trials.all(found)
    images: dict[str, bytes] = {kind: render(kind, trials, info) for kind in KINDS}
    return pages.study_page(
        status, best_config(store, found), images, request.query_params.get("token")
    )

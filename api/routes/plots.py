"""Plots as PNG, and the HTML status pages built on them."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Response
from fastapi.responses import HTMLResponse

from api import pages
from api.auth import require_page, require_token
from api.deps import StoreDep
from schedsearch.core.errors import StudyNotFound
from schedsearch.reports.plots import KINDS, PlotKind, range_test_png, render
from schedsearch.reports.results import best_config, study_status

ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "missing or wrong token"},
    404: {"description": "no such study"},
}
plots = APIRouter(tags=["plots"], dependencies=[Depends(require_token)])
ui = APIRouter(
    tags=["ui"], dependencies=[Depends(require_page)], default_response_class=HTMLResponse
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


@plots.get(
    "/studies/{study}/range-test.png",
    response_class=Response,
    responses={200: {"content": {"image/png": {}}}, **ERRORS},
)
def range_test_plot(study: str, store: StoreDep) -> Response:
    """The study's LR range test: smoothed training loss against the LR, the suggestion marked
    (404 until a worker has run it, or when the study has none)."""
    test = store.range_tests.result(store.studies.get(study).id)
    if test is None:
        raise StudyNotFound(f"study {study!r} has no LR range test (yet)")
    return Response(range_test_png(test), media_type="image/png")


@ui.get("/ui", responses={401: ERRORS[401]})
def study_list(store: StoreDep) -> str:
    studies, _ = store.studies.list(limit=100)
    return pages.study_list([study_status(store, s.id) for s in studies])


@ui.get("/ui/studies/{study}", responses=ERRORS)
def study_page(study: str, store: StoreDep) -> str:
    status = study_status(store, study)
    info = status["spec"]
    found = store.studies.get(status["id"])
    trials = store.trials.all(found)
    images: dict[str, bytes] = {kind: render(kind, trials, info) for kind in KINDS}
    test = store.range_tests.result(found.id)
    if test is not None:
        images["range test"] = range_test_png(test)
    return pages.study_page(status, best_config(store, found), images)

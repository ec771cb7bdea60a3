"""Studies: submit, list, watch, fetch the best schedule, cancel, delete."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response, status

from api.auth import require_token
from api.deps import get_store
from api.schemas import BestOut, StudyCreate, StudyOut, StudyPage, TrialOut, TrialPage
from schedsearch.results import best_config, study_status
from schedsearch.runner import submit
from schedsearch.store import TERMINAL, Store

router = APIRouter(prefix="/studies", tags=["studies"], dependencies=[Depends(require_token)])
StoreDep = Annotated[Store, Depends(get_store)]
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "missing or wrong bearer token"},
    404: {"description": "no such study"},
}
BAD_BODY: dict[int | str, dict[str, Any]] = {400: {"description": "the body is not valid JSON"}}


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=StudyOut,
    responses={**ERRORS, **BAD_BODY, 409: {"description": "the name is taken"}},
)
def create_study(spec: StudyCreate, store: StoreDep) -> dict[str, Any]:
    """Store a study; workers start on it at their next look for work."""
    return study_status(store, submit(store, spec).id)


@router.get("", response_model=StudyPage, responses=ERRORS)
def list_studies(
    store: StoreDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> dict[str, Any]:
    """Newest first."""
    studies, total = store.list(limit, offset)
    items = [study_status(store, s.id) for s in studies]
    return {"items": items, "total": total, "limit": limit, "offset": offset}


@router.get("/{study}", response_model=StudyOut, responses=ERRORS)
def get_study(study: str, store: StoreDep, request: Request) -> dict[str, Any]:
    """Progress, trial counts, best value, elapsed time, ETA and live workers (id or name);
    at most SCHEDSEARCH_STATUS_TTL seconds (default 1) old."""
    return request.app.state.status_cache.get(study, lambda: study_status(store, study))


@router.get("/{study}/best", response_model=BestOut, responses=ERRORS)
def get_best(study: str, store: StoreDep) -> dict[str, Any]:
    """The best schedule so far, as a config and a PyTorch snippet."""
    info = store.get(study)
    best = best_config(store, info)
    if best is None:
        raise HTTPException(404, f"study {info.name!r} has no completed trial yet")
    return best


@router.get("/{study}/trials", response_model=TrialPage, responses=ERRORS)
def get_trials(
    study: str,
    store: StoreDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
) -> dict[str, Any]:
    """Trials by number: state, parameters, value and learning curve."""
    trials, total = store.trials(store.get(study), limit, offset)
    items = [
        TrialOut(
            number=t.number,
            state=t.state.name.lower(),
            params=t.params,
            value=t.value,
            intermediate_values=t.intermediate_values,
            schedule=t.user_attrs.get("schedule"),
            base_lr=t.user_attrs.get("base_lr"),
            diverged=t.user_attrs.get("diverged"),
            datetime_start=t.datetime_start,
            datetime_complete=t.datetime_complete,
        )
        for t in trials
    ]
    return {"items": items, "total": total, "limit": limit, "offset": offset}


@router.post(
    "/{study}/cancel",
    response_model=StudyOut,
    responses={**ERRORS, 409: {"description": "the study is already over"}},
)
def cancel_study(study: str, store: StoreDep, request: Request) -> dict[str, Any]:
    """Stop handing out trials; running trials finish."""
    info = store.get(study)
    if info.status in TERMINAL:
        raise HTTPException(409, f"study {info.name!r} is already {info.status}")
    request.app.state.status_cache.drop(str(info.id), info.name)
    return study_status(store, store.cancel(info.id).id)


@router.delete(
    "/{study}", status_code=status.HTTP_204_NO_CONTENT, response_class=Response, responses=ERRORS
)
def delete_study(study: str, store: StoreDep, request: Request) -> Response:
    """Remove the study and all its trials."""
    info = store.get(study)
    request.app.state.status_cache.drop(str(info.id), info.name)
    store.delete(info.id)
    return Response(status_code=status.HTTP_204_NO_CONTENT)

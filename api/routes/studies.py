"""Studies: submit, list, watch, fetch the best schedule, cancel, delete."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response, status
from optuna.trial import FrozenTrial

from api.auth import require_admin, require_token, require_write
from api.deps import StoreDep
from api.errors import BAD_BODY
from api.schemas import BestOut, StudyCreate, StudyOut, StudyPage, TrialOut, TrialPage
from schedsearch.core.records import TrialRecord
from schedsearch.reports.results import best_config, study_status
from schedsearch.search import lifecycle

router = APIRouter(prefix="/studies", tags=["studies"], dependencies=[Depends(require_token)])
ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "missing or wrong bearer token"},
    403: {"description": "the token's scope does not allow this"},
    404: {"description": "no such study"},
}


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=StudyOut,
    responses={**ERRORS, **BAD_BODY, 409: {"description": "the name is taken"}},
    dependencies=[Depends(require_write)],
)
def create_study(spec: StudyCreate, store: StoreDep) -> dict[str, Any]:
    """Store a study; workers start on it at their next look for work."""
    return study_status(store, lifecycle.submit(store, spec).id)


@router.get("", response_model=StudyPage, responses=ERRORS)
def list_studies(
    store: StoreDep,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> dict[str, Any]:
    """Newest first."""
    studies, total = store.studies.list(limit, offset)
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
    info = store.studies.get(study)
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
    trials, total = store.trials.page(store.studies.get(study), limit, offset)
    items = [_trial(t) for t in trials]
    return {"items": items, "total": total, "limit": limit, "offset": offset}


@router.post(
    "/{study}/cancel",
    dependencies=[Depends(require_admin)],
    response_model=StudyOut,
    responses={**ERRORS, 409: {"description": "the study is already over"}},
)
def cancel_study(study: str, store: StoreDep, request: Request) -> dict[str, Any]:
    """Stop handing out trials; running trials finish."""
    info = store.studies.get(study)
    if not info.status.active:
        raise HTTPException(409, f"study {info.name!r} is already {info.status}")
    request.app.state.status_cache.drop(str(info.id), info.name)
    return study_status(store, lifecycle.cancel(store, info).id)


@router.delete(
    "/{study}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    responses=ERRORS,
    dependencies=[Depends(require_admin)],
)
def delete_study(study: str, store: StoreDep, request: Request) -> Response:
    """Remove the study and all its trials."""
    info = store.studies.get(study)
    request.app.state.status_cache.drop(str(info.id), info.name)
    lifecycle.delete(store, info)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


def _trial(trial: FrozenTrial) -> TrialOut:
    record = TrialRecord.of(trial.user_attrs)
    return TrialOut(
        number=trial.number,
        state=trial.state.name.lower(),
        params=trial.params,
        value=trial.value,
        intermediate_values=trial.intermediate_values,
        schedule=record.schedule,
        base_lr=record.base_lr,
        diverged=record.diverged,
        datetime_start=trial.datetime_start,
        datetime_complete=trial.datetime_complete,
    )

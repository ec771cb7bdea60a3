"""Schedule families, their default ranges, and LR-curve previews."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends

from api.auth import require_token
from api.errors import BAD_BODY
from api.schemas import PreviewIn, PreviewOut, Schedules
from schedsearch.core.curves import lr_curve
from schedsearch.core.schedules import FAMILIES, warmup_steps
from schedsearch.core.space import DEFAULT_BASE_LR, describe, domain_json

router = APIRouter(prefix="/schedules", tags=["schedules"], dependencies=[Depends(require_token)])


@router.get("", response_model=Schedules, responses={401: {"description": "bad token"}})
def list_schedules() -> dict[str, Any]:
    """Every family with its default search range, and the default base-LR ranges."""
    return {
        "families": describe(),
        "base_lr": {name: domain_json(domain) for name, domain in DEFAULT_BASE_LR.items()},
        "defaults": {
            name: cls.model_validate({}).model_dump(mode="json") for name, cls in FAMILIES.items()
        },
    }


@router.post(
    "/preview",
    response_model=PreviewOut,
    responses={401: {"description": "bad token"}, **BAD_BODY},
)
def preview(body: PreviewIn) -> dict[str, Any]:
    """The LR at every step of a config, for clients to plot."""
    curve = lr_curve(
        body.schedule, body.total_steps, body.base_lr, body.steps_per_epoch, body.metrics
    )
    return {
        "family": body.schedule.family,
        "total_steps": body.total_steps,
        "warmup_steps": warmup_steps(body.schedule.warmup, body.total_steps),
        "lr": curve,
    }

"""Request and answer bodies of leased trials (``api.routes.leases``; docs/leases.md)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from api.schemas import ScheduleOut


class LeaseOut(BaseModel):
    id: str
    study_id: int
    trial_number: int | None
    state: Literal["active", "complete", "pruned", "failed", "released", "expired"]
    expires_at: datetime
    seconds: int = Field(description="a heartbeat extends the lease by this long")
    renew_every: int = Field(description="seconds between heartbeats a holder should keep")
    value: float | None = None
    reason: str | None = None


class LeasedTrial(BaseModel):
    study: str
    study_id: int
    number: int
    schedule: ScheduleOut
    base_lr: float
    optimizer: dict[str, Any]
    epochs: int = Field(description="the trial's length: report once per epoch, 1..epochs")
    batch_size: int
    metric: str
    direction: Literal["maximize", "minimize"]
    code: str = Field(description="a PyTorch snippet: make_scheduler(optimizer, total_steps)")


class AskOut(BaseModel):
    outcome: Literal["trial", "wait", "over"] = Field(
        description="trial: here is one; wait: every remaining trial is out on lease, ask "
        "again after retry_after seconds; over: the study hands out no more trials"
    )
    lease: LeaseOut | None = None
    trial: LeasedTrial | None = None
    retry_after: float | None = None
    status: str = Field(description="the study's status")
    detail: str | None = None


class ReportIn(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=True)

    epoch: int = Field(ge=1, le=100_000, strict=True, description="epochs trained so far")
    value: float = Field(description="the study's metric; NaN or inf: the run diverged")


class ReportOut(BaseModel):
    prune: bool = Field(description="stop this trial now (then finish it as pruned)")
    state: Literal["running", "failed"]


class FinishIn(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=True)

    state: Literal["complete", "pruned", "failed", "released"] = Field(
        description="released: handed back unfinished (the trial is run again)"
    )
    value: float | None = Field(None, description="the final metric (needed when complete)")
    reason: str | None = Field(None, max_length=2000, description="why it failed or stopped")

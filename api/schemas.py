"""Request and response bodies of the HTTP API (separate from persistence and routes)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, cast

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic.config import JsonDict

from schedsearch.core.schedules import ScheduleConfig
from schedsearch.core.spec import STORED, StudySpec
from schedsearch.core.states import StudyStatus, TrialState

EXAMPLE_SPEC: dict[str, Any] = {
    "name": "digits-cosine-vs-onecycle",
    "dataset": "digits",
    "model": "cnn-small",
    "epochs": 10,
    "n_trials": 30,
    "families": ["cosine", "one_cycle", "step"],
    "space": {"cosine": {"eta_min": 0.0}, "base_lr": {"low": 0.01, "high": 1.0, "log": True}},
    "pruner": "hyperband",
    "seed": 0,
}


class StudyCreate(StudySpec):
    """A study spec as submitted; the name is generated when absent."""

    model_config = ConfigDict(
        extra="forbid", frozen=True, json_schema_extra={"examples": [cast(JsonDict, EXAMPLE_SPEC)]}
    )

    @model_validator(mode="after")
    def _reads_back(self) -> StudyCreate:
        """What is stored must validate when read back. The fuzz of issue 14 submitted
        ``{"budget_epochs": 362880}``: the budget set n_trials to 362,820, over its 100,000, the
        spec was stored, and every read of it failed (a 500 on that POST, then on every
        ``GET /studies`` and on the study's own routes, DELETE included)."""
        try:
            StudySpec.model_validate(self.stored_form(), context=STORED)
        except ValidationError as exc:
            error = exc.errors()[0]
            field = ".".join(str(part) for part in error["loc"])
            if not field:
                raise ValueError(error["msg"]) from None
            raise ValueError(f"{field} comes to {error['input']!r}: {error['msg']}") from None
        return self


class Progress(BaseModel):
    finished: int
    n_trials: int
    fraction: float


class TrialCounts(BaseModel):
    complete: int
    pruned: int
    running: int
    failed: int
    waiting: int


class RerunProgress(BaseModel):
    status: StudyStatus
    finished: int
    n_trials: int


class Compute(BaseModel):
    budget_epochs: int | None = Field(description="the spec's budget_epochs (None: no budget)")
    spent_epochs: float = Field(
        description="epochs trained or reserved by running trials: range test, trials, re-runs"
    )
    left_epochs: float | None = Field(description="budget_epochs - spent_epochs")


class RangeTestOut(BaseModel):
    status: Literal["running", "done"]
    suggestion: float | None = Field(description="the LR where the training loss fell fastest")
    base_lr_range: dict[str, Any] | None = Field(description="the centred base-LR range searched")
    steps: int | None
    epochs: float | None = Field(description="what the test cost, in epochs")
    stopped: str | None


class StudyOut(BaseModel):
    id: int
    name: str
    status: StudyStatus
    n_trials: int
    progress: Progress
    trials: TrialCounts
    metric: str = Field(description="what each trial reports, e.g. val_accuracy (from the spec)")
    direction: Literal["maximize", "minimize"] = Field(description="which way is better")
    best_value: float | None = Field(
        description="the best COMPLETE trial's metric so far, in the study's direction"
    )
    created_at: datetime
    updated_at: datetime
    elapsed_seconds: float
    eta_seconds: float | None = Field(description="from recent trial durations and live workers")
    live_workers: int = Field(description="workers on this study seen in the last minute")
    lost_workers: int = Field(
        description="workers that stopped beating while on this study (listed for "
        "SCHEDSEARCH_WORKER_RETENTION seconds)"
    )
    error: str | None
    rerun: RerunProgress | None = Field(
        description="the re-run phase (rerun_top_k), once the search has run all its trials"
    )
    compute: Compute
    range_test: RangeTestOut | None = Field(
        description="the LR range test (lr_range_test), once a worker has begun it"
    )
    spec: StudySpec


class StudyPage(BaseModel):
    items: list[StudyOut]
    total: int
    limit: int
    offset: int


class ScheduleOut(BaseModel):
    family: str
    params: dict[str, Any]


class RerunCandidate(BaseModel):
    trial_number: int = Field(description="the search trial whose config is re-run")
    search_value: float | None
    values: list[float] = Field(description="the study's metric with each fresh seed")
    mean: float | None
    std: float | None
    test_mean: float | None = Field(description="mean accuracy on the held-out test split")
    schedule: dict[str, Any] | None
    base_lr: float | None
    recipe: str | None = Field(description="the folklore recipe this config is, if any")
    seeds: list[int | None] = Field(description="the fresh seed of each value")


class Lift(BaseModel):
    recipe: str = Field(description="the best folklore recipe the study ran")
    recipe_trial_number: int
    recipe_base_lr: float | None
    recipe_mean: float
    value: float = Field(
        description="how much the pick's mean beats the recipe's, over the same fresh seeds "
        "(positive: better in the study's direction)"
    )
    std: float | None = Field(description="spread of the per-seed differences")
    runs: int = Field(description="seeds paired")


class RerunOut(BaseModel):
    status: StudyStatus
    seeds: int
    finished: int
    n_trials: int
    candidates: list[RerunCandidate] = Field(description="best mean first (study's direction)")
    lift: Lift | None


class Runs(BaseModel):
    mean: float
    std: float | None
    n: int = Field(description="runs behind the mean (1: the search trial alone)")


class BestOut(BaseModel):
    metric: str = Field(description="the study's metric, e.g. val_accuracy")
    direction: Literal["maximize", "minimize"] = Field(description="which way is better")
    value: float = Field(
        description="the study's metric; after a re-run, the mean over the fresh seeds"
    )
    trial_number: int
    schedule: ScheduleOut
    base_lr: float
    optimizer: dict[str, Any]
    epochs: int
    batch_size: int
    code: str = Field(description="a PyTorch snippet: make_scheduler(optimizer, total_steps)")
    runs: Runs = Field(description="mean, spread and number of runs behind the value")
    lift: Lift | None = Field(
        description="margin over the best folklore recipe seen, on re-run means (same seeds)"
    )
    rerun: RerunOut | None = Field(description="the top-k configs re-run with fresh seeds")


class TrialOut(BaseModel):
    number: int
    state: TrialState
    params: dict[str, Any]
    value: float | None
    intermediate_values: dict[int, float]
    schedule: dict[str, Any] | None
    base_lr: float | None
    diverged: str | None
    datetime_start: datetime | None
    datetime_complete: datetime | None


class TrialPage(BaseModel):
    items: list[TrialOut]
    total: int
    limit: int
    offset: int


class Schedules(BaseModel):
    families: dict[str, dict[str, Any]] = Field(description="default search range per parameter")
    base_lr: dict[str, dict[str, Any]] = Field(description="default base LR range per optimizer")
    defaults: dict[str, dict[str, Any]] = Field(description="each family's default config")


class PreviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False)

    schedule: ScheduleConfig
    total_steps: int = Field(1000, ge=1, le=100_000, strict=True)
    base_lr: float = Field(0.1, gt=0.0, le=100.0)
    steps_per_epoch: int | None = Field(None, ge=1, le=100_000, strict=True)
    metrics: list[float] | None = Field(
        None, max_length=10_000, description="per-epoch validation metric (reduce-on-plateau)"
    )

    @model_validator(mode="after")
    def _metrics_need_epochs(self) -> PreviewIn:
        if self.metrics is not None and self.steps_per_epoch is None:
            raise ValueError("metrics need steps_per_epoch")
        return self


class PreviewOut(BaseModel):
    family: str
    total_steps: int
    warmup_steps: int
    lr: list[float]


class Health(BaseModel):
    status: Literal["ok", "unavailable"]
    database: str

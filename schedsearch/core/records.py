"""What a trial carries beside Optuna's params and values, typed: ``TrialRecord``.

Optuna keeps these as loose user attributes; every reader (the objective, the re-run phase,
results, plots, the routes) goes through ``TrialRecord.of(trial.user_attrs)`` and every writer
through ``TrialRecord.attrs``, so the keys and their types are defined here once. The keys are
the ones databases made since the first release hold, so old studies read back unchanged.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field, field_validator

from schedsearch.core.schedules import ScheduleBase, parse_schedule


class HoldsUserAttrs(Protocol):
    """What writing needs of a trial: Optuna's ``Trial`` has it."""

    def set_user_attr(self, key: str, value: Any) -> None: ...


class TrainMetrics(BaseModel):
    """How the trial trained (stored as one JSON string: one attribute, not one per epoch)."""

    model_config = ConfigDict(frozen=True)

    train_loss: list[float] = Field(default_factory=list)
    seconds: float = 0.0
    images_per_s: int = 0


class TrialRecord(BaseModel):
    """A trial's own facts: every field is optional, since a trial gains them as it runs."""

    model_config = ConfigDict(frozen=True)

    # Set by the objective once the schedule is sampled.
    schedule: dict[str, Any] | None = None
    base_lr: float | None = None
    # Set when training ends.
    metrics: TrainMetrics | None = None
    diverged: str | None = Field(None, description="why the run was stopped as diverged")
    test_accuracy: float | None = Field(None, description="held-out accuracy (re-runs only)")
    # Set when a re-run trial is queued: which search trial it repeats, with which seed.
    rerun_of: int | None = None
    seed: int | None = None
    search_value: float | None = None

    @field_validator("metrics", mode="before")
    @classmethod
    def _metrics_from_json(cls, value: Any) -> Any:
        return json.loads(value) if isinstance(value, str) else value

    @classmethod
    def of(cls, user_attrs: Mapping[str, Any]) -> TrialRecord:
        """The record of a trial's user attributes (keys we do not know are ignored)."""
        return cls.model_validate({k: v for k, v in user_attrs.items() if k in cls.model_fields})

    def attrs(self) -> dict[str, Any]:
        """The fields that are set, as user attributes (metrics as one JSON string)."""
        out = self.model_dump(exclude_none=True)  # python mode: a NaN loss stays a float
        if "metrics" in out:
            out["metrics"] = json.dumps(out["metrics"])
        return out

    def write(self, trial: HoldsUserAttrs) -> None:
        """Store the fields that are set on the trial, one user attribute each."""
        for key, value in self.attrs().items():
            trial.set_user_attr(key, value)

    @property
    def family(self) -> str | None:
        return None if self.schedule is None else str(self.schedule.get("family"))

    def config(self) -> ScheduleBase:
        """The trial's schedule config; raises ValueError before one was sampled."""
        if self.schedule is None:
            raise ValueError("the trial has no schedule yet")
        return parse_schedule(self.schedule)

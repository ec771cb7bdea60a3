"""The schedules people pick by habit: the baseline schedsearch must beat, and a warm start.

Each recipe is the textbook form: constant LR; the ResNet step recipe (x0.1 at 50% and 75% of
the run); cosine to zero, with and without a 5% warm-up; Smith's one-cycle with torch's
defaults; linear decay to zero. Their base LR is the optimizer's usual default (0.1 for SGD
with momentum, 1e-3 for AdamW), or each value of a small grid.
"""

from __future__ import annotations

from collections.abc import Sequence

from schedsearch.core.schedules import (
    Constant,
    Cosine,
    Linear,
    MultiStep,
    OneCycle,
    ScheduleBase,
    ScheduleFree,
)
from schedsearch.core.space import SampledSchedule

RECIPES: dict[str, ScheduleBase] = {
    "constant": Constant(),
    "step": MultiStep(milestones=(0.5, 0.75), gamma=0.1),
    "cosine": Cosine(eta_min=0.0),
    "warmup_cosine": Cosine(eta_min=0.0, warmup=0.05),
    "one_cycle": OneCycle(),
    "linear": Linear(end_factor=0.0),
}

USUAL_LR: dict[str, float] = {"sgd": 0.1, "adamw": 1e-3}

# Current practice beside the textbook: schedule-free training at its package's defaults (5%
# warm-up). It joins the prior (``search.prior``) but not the folklore baseline: the lift a
# study reports is over the textbook recipes people pick by habit.
PRACTICE: dict[str, ScheduleBase] = {"schedule_free": ScheduleFree()}


def folklore(
    optimizer: str = "sgd", base_lrs: Sequence[float] | None = None
) -> list[tuple[str, SampledSchedule]]:
    """Every recipe at every base LR of the grid (default: the optimizer's usual one)."""
    lrs = base_lrs if base_lrs is not None else (USUAL_LR[optimizer],)
    return [
        (name, SampledSchedule(schedule, float(lr)))
        for name, schedule in RECIPES.items()
        for lr in lrs
    ]


def recipe_of(schedule: ScheduleBase) -> str | None:
    """The recipe a config is (whatever its base LR), or None: how a study tells its folklore
    trials (prior draws, warm starts) from the rest, for the lift it reports."""
    params = schedule.model_dump(mode="json")
    for name, recipe in RECIPES.items():
        if recipe.model_dump(mode="json") == params:
            return name
    return None

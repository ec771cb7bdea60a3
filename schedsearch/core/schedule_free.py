"""Schedule-free SGD / AdamW (Defazio et al. 2024, the ``schedulefree`` package) as a family.

Schedule-free training has no decay to choose: it keeps the base LR (after a warm-up) and
evaluates at an average of the iterates, which does what a decay does without knowing the
run's length. It won the self-tuning track of the AlgoPerf benchmark (2024), and in this
project's own benchmark it beat the searched schedules on the short digits task
(bench/RESULTS.md), so a search that cannot propose it leaves that answer out.

It is an optimizer, not a scheduler: a trial of this family swaps SGD (AdamW) for
``SGDScheduleFree`` (``AdamWScheduleFree``), calls ``optimizer.train()`` / ``optimizer.eval()``
around training and evaluation, and recomputes BatchNorm statistics at the evaluation weights
(``engine.train``). The LR schedule itself is the shared warm-up ramp and then the base LR, so
the closed form, the torch scheduler and the snippet are the constant family's; the package's
own ``warmup_steps`` stays 0 so that the ramp is not applied twice. Only the built-in trainer
can swap the optimizer, so studies trained elsewhere do not search it (``core.spec``).

The base LR keeps one meaning across families, so that one sampled ``base_lr`` and the range
test serve them all: SGD with momentum ``m`` moves about ``lr / (1 - m)`` per unit gradient,
schedule-free SGD's base sequence ``lr``; so its optimizer gets ``base_lr / (1 - m)`` (10x at
0.9, the low end of the package's "10x-50x larger than classical rates"; measured on digits:
optimizer LR 0.3 -> 0.62 validation accuracy in 4 epochs, 3 -> 0.96). AdamW's steps are normalised:
its schedule-free form takes the base LR as it is (the package: "1x-10x").
"""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from schedsearch.core.schedule_base import ScheduleBase, scheduler_call

MOMENTUM = 0.9  # the package's default, and the built-in trainer's SGD momentum


def optimizer_lr(base_lr: float, optimizer: str, momentum: float = MOMENTUM) -> float:
    """The schedule-free optimizer's LR for a base LR (see the module's docstring)."""
    return base_lr if optimizer == "adamw" else base_lr / (1.0 - momentum)


def optimizer_class(optimizer: str) -> str:
    """The ``schedulefree`` class that stands in for the spec's optimizer."""
    return "AdamWScheduleFree" if optimizer == "adamw" else "SGDScheduleFree"


class ScheduleFree(ScheduleBase):
    """The base LR after a linear warm-up, on a schedule-free optimizer (its momentum
    ``beta`` interpolates between the averaged and the current iterate)."""

    family: Literal["schedule_free"] = "schedule_free"
    warmup: float = Field(  # the paper's advice: about 5% of the run
        0.05, ge=0.0, lt=1.0, description="linear warm-up length, as a fraction of the run"
    )

    swaps_optimizer: ClassVar[bool] = True

    def multiplier(self, u: int, steps: int) -> float:
        return 1.0

    def code(self) -> str:
        return scheduler_call("ConstantLR", factor="1.0", total_iters="0")

"""Warmup-stable-decay (WSD): hold the base LR, then cool down over the last part of the run.

Hägele et al. (2024), "Scaling Laws and Compute-Optimal Training Beyond Fixed Training
Durations": a constant LR with a short cool-down at the end matches or beats cosine, and the
stable phase does not depend on the run's length, so one run can be extended or branched into
several lengths. Their ``1-sqrt`` cool-down beat the linear one, hence the default.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Literal

from pydantic import Field

from schedsearch.core.schedule_base import ScheduleBase, scheduler_call, span

Shape = Literal["linear", "cosine", "1-sqrt"]

# Each cool-down shape twice, side by side: the closed form and the code of the same formula
# (over the progress ``t`` in [0, 1]), so the preview and the torch scheduler agree.
_SHAPES: dict[str, tuple[Callable[[float], float], str]] = {
    "linear": (lambda t: 1 - t, "1 - {t}"),
    "cosine": (lambda t: (1 + math.cos(math.pi * t)) / 2, "(1 + math.cos(math.pi * {t})) / 2"),
    "1-sqrt": (lambda t: 1 - t**0.5, "1 - {t} ** 0.5"),
}


class WarmupStableDecay(ScheduleBase):
    """The base LR, then a cool-down over the last ``decay`` of the run to ``end_factor``.

    The cool-down's progress ``t`` runs from 0 to 1 over ``span(decay, steps)`` steps, and the
    multiplier is ``end + (1 - end) * shape(t)``. The warm-up is the shared ``warmup`` field.
    torch has no such scheduler, so the family is a ``LambdaLR`` over the same formula.
    """

    family: Literal["wsd"] = "wsd"
    decay: float = Field(0.2, gt=0.0, lt=1.0, description="cool-down, as a fraction of the run")
    shape: Shape = "1-sqrt"
    end_factor: float = Field(0.0, ge=0.0, le=1.0, description="final LR, fraction of base LR")

    def multiplier(self, u: int, steps: int) -> float:
        cool = span(self.decay, steps)
        t = min(max(u - steps + cool, 0), cool) / cool
        return self.end_factor + (1 - self.end_factor) * _SHAPES[self.shape][0](t)

    def code(self) -> str:
        e = self.end_factor
        shape = _SHAPES[self.shape][1].format(t="(min(max(u - steps + d, 0), d) / d)")
        return scheduler_call(
            "LambdaLR", f"lambda u, d=span({self.decay!r}, steps): {e!r} + (1 - {e!r}) * ({shape})"
        )

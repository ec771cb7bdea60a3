"""The torch side of every schedule family: the scheduler a trial steps.

A family's main phase is the ``lr_scheduler`` expression its config writes (``code()``), the
very text that ``to_code`` puts in the user's snippet: evaluating it here means the trainer and
the snippet cannot drift apart. The configs are validated pydantic models (numbers and fixed
words), so the expressions hold nothing but what ``code()`` wrote.
"""

from __future__ import annotations

import functools
import math
from types import CodeType
from typing import Any

from torch.optim import Optimizer, lr_scheduler

from schedsearch.core.schedules import ScheduleBase, parse_schedule, span, warmup_steps

_BUILTINS = {"min": min, "max": max, "round": round}


@functools.lru_cache(maxsize=4096)
def _compiled(code: str) -> CodeType:
    return compile(code, "<schedule>", "eval")


def main_scheduler(config: ScheduleBase, optimizer: Optimizer, steps: int, base: float) -> Any:
    """The family's torch scheduler for ``steps`` optimizer steps from LR ``base``."""
    scope = {
        "__builtins__": _BUILTINS,
        "lr_scheduler": lr_scheduler,
        "math": math,
        "span": span,
        "optimizer": optimizer,
        "steps": steps,
        "base": base,
    }
    return eval(_compiled(config.code()), scope)


def _compose(optimizer: Optimizer, config: ScheduleBase, total_steps: int) -> tuple[Any, Any, int]:
    """(ramp or None, family scheduler, warm-up steps), wired the way ``to_code`` writes it.

    The family is built first so that the optimizer's LR is the family's own starting LR; that
    LR becomes ``initial_lr``, the target which SequentialLR's reset hands to the ramp.
    """
    warm = warmup_steps(config.warmup, total_steps)
    main = main_scheduler(config, optimizer, total_steps - warm, optimizer.param_groups[0]["lr"])
    if not warm:
        return None, main, 0
    for group in optimizer.param_groups:
        group["initial_lr"] = group["lr"]
    ramp = lr_scheduler.LinearLR(optimizer, start_factor=1 / (warm + 1), total_iters=warm)
    return ramp, main, warm


class LRSchedule:
    """One interface for every family: ``step()`` after each optimizer step, ``epoch_end(metric)``
    after each validation. Wraps the plain torch schedulers that ``to_code`` also writes."""

    def __init__(
        self, optimizer: Optimizer, config: ScheduleBase, total_steps: int, steps_per_epoch: int
    ) -> None:
        if total_steps < 1 or steps_per_epoch < 1:
            raise ValueError("total_steps and steps_per_epoch must be at least 1")
        self.optimizer = optimizer
        self.config = config
        self.steps_per_epoch = steps_per_epoch
        self.ramp, main, self.warmup_steps = _compose(optimizer, config, total_steps)
        self.plateau = main if config.per_epoch else None
        if config.per_epoch:
            self.scheduler = self.ramp
        elif self.ramp is not None:
            self.scheduler = lr_scheduler.SequentialLR(
                optimizer, [self.ramp, main], milestones=[self.warmup_steps]
            )
        else:
            self.scheduler = main
        self._done = 0

    def step(self) -> None:
        """Advance one optimizer step."""
        self._done += 1
        if self.plateau is None:
            self.scheduler.step()
        elif self.ramp is not None and self._done <= self.warmup_steps:
            self.ramp.step()

    def epoch_end(self, metric: float) -> None:
        """Feed the epoch's validation metric (acts only for plateau, once warm-up is over)."""
        if self._done % self.steps_per_epoch:
            raise RuntimeError(
                f"epoch_end() after {self._done} steps, mid-epoch of {self.steps_per_epoch} steps"
            )
        if self.plateau is not None and self._done >= self.warmup_steps:
            self.plateau.step(metric)

    def get_last_lr(self) -> list[float]:
        return [group["lr"] for group in self.optimizer.param_groups]


def build_scheduler(
    optimizer: Optimizer,
    config: ScheduleBase | dict[str, Any],
    total_steps: int,
    steps_per_epoch: int,
) -> LRSchedule:
    """The scheduler for ``config`` over a run of ``total_steps`` optimizer steps."""
    if isinstance(config, dict):
        config = parse_schedule(config)
    return LRSchedule(optimizer, config, total_steps, steps_per_epoch)

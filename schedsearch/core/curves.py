"""A schedule's LR at every optimizer step, from the closed forms: no torch, no training.

What previews, plots and the decay-aware pruner read; the trainer's torch schedulers are tested
against it step for step.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from schedsearch.core.schedules import Plateau, ScheduleBase, parse_schedule, warmup_steps


def _plateau_cuts(
    config: Plateau, metrics: Sequence[float], steps_per_epoch: int, warm: int, total_steps: int
) -> list[int]:
    """LR cuts in force at each step: epoch e's metric is heard after its last step, once
    warm-up is over, and a cut applies from the next step on."""
    heard = [(e, m) for e, m in enumerate(metrics) if (e + 1) * steps_per_epoch >= warm]
    changes = {  # step -> cuts from there on (one pass: linear in the steps, as previews need)
        (epoch + 1) * steps_per_epoch: n_cuts
        for (epoch, _), n_cuts in zip(heard, config.reductions([m for _, m in heard]), strict=True)
    }
    cuts, current = [], 0
    for t in range(total_steps):
        current = changes.get(t, current)
        cuts.append(current)
    return cuts


def lr_curve(
    config: ScheduleBase | dict[str, Any],
    total_steps: int,
    base_lr: float,
    steps_per_epoch: int | None = None,
    metrics: Sequence[float] | None = None,
) -> list[float]:
    """The LR of every optimizer step, from the closed form, without torch or training.

    ``metrics`` (one per epoch, needs ``steps_per_epoch``) drives reduce-on-plateau; without them
    its LR stays at the base LR after warm-up.
    """
    if isinstance(config, dict):
        config = parse_schedule(config)
    if total_steps < 1:
        raise ValueError("total_steps must be at least 1")
    warm = warmup_steps(config.warmup, total_steps)
    steps = total_steps - warm
    start = base_lr * config.multiplier(0, steps)
    cuts = [0] * total_steps
    if isinstance(config, Plateau) and metrics is not None:
        if not steps_per_epoch:
            raise ValueError("metrics need steps_per_epoch")
        cuts = _plateau_cuts(config, metrics, steps_per_epoch, warm, total_steps)
    curve = []
    for t in range(total_steps):
        if t < warm:
            curve.append(start * (t + 1) / (warm + 1))
        elif isinstance(config, Plateau):
            curve.append(max(base_lr * config.factor ** cuts[t], base_lr * config.min_factor))
        else:
            curve.append(base_lr * config.multiplier(t - warm, steps))
    return curve

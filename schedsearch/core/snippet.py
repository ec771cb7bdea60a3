"""The runnable PyTorch snippet that rebuilds a found schedule at any run length."""

from __future__ import annotations

import json
from typing import Any

from schedsearch.core.schedules import ScheduleBase, parse_schedule

_CODE = '''\
{imports}import torch
from torch.optim import lr_scheduler


def make_scheduler(optimizer: torch.optim.Optimizer, total_steps: int):
    """{summary}

    {usage}
    """
    base = optimizer.param_groups[0]["lr"]
    span = lambda fraction, steps: max(1, round(fraction * steps))  # noqa: E731
    warmup = min(round({warmup!r} * total_steps), total_steps - 1)
    steps = total_steps - warmup
    main = {main}
    if warmup == 0:
        return {no_warmup}
    for group in optimizer.param_groups:  # the ramp climbs to the schedule's first LR
        group["initial_lr"] = group["lr"]
    ramp = lr_scheduler.LinearLR(optimizer, start_factor=1 / (warmup + 1), total_iters=warmup)
    return {with_warmup}
'''
_USAGE_PER_STEP = "Call scheduler.step() after every optimizer.step()."
_USAGE_PER_EPOCH = (
    "Returns (ramp, plateau): call ramp.step() after each of the first warm-up optimizer "
    "steps\n    (ramp is None without warm-up), then plateau.step(val_metric) at each epoch end."
)


def to_code(
    config: ScheduleBase | dict[str, Any],
    base_lr: float | None = None,
    optimizer: str | None = None,
) -> str:
    """A self-contained PyTorch snippet, ``make_scheduler(optimizer, total_steps)``, that
    rebuilds this schedule at any run length."""
    if isinstance(config, dict):
        config = parse_schedule(config)
    summary = f"schedsearch schedule {config.family}: {json.dumps(config.params())}"
    if base_lr is not None:
        found_with = f" and {optimizer}" if optimizer else ""
        summary += f"\n    Found with base LR {base_lr!r}{found_with}."
    per_epoch = config.per_epoch
    main = config.code()
    return _CODE.format(
        imports="import math\n\n" if "math." in main else "",  # for LambdaLR formulas
        summary=summary,
        usage=_USAGE_PER_EPOCH if per_epoch else _USAGE_PER_STEP,
        warmup=config.warmup,
        main=main,
        no_warmup="None, main" if per_epoch else "main",
        with_warmup=(
            "ramp, main"
            if per_epoch
            else "lr_scheduler.SequentialLR(optimizer, [ramp, main], milestones=[warmup])"
        ),
    )

"""The runnable PyTorch snippet that rebuilds a found schedule at any run length."""

from __future__ import annotations

import json
from typing import Any

from schedsearch.core.folklore import USUAL_LR
from schedsearch.core.schedule_free import MOMENTUM, optimizer_class, optimizer_lr
from schedsearch.core.schedules import ScheduleBase, parse_schedule
from schedsearch.core.spec import StudySpec

_DEFAULT_DECAY = StudySpec.model_fields["weight_decay"].default

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
# A schedule-free family trains with its own optimizer: the snippet builds that too, with the
# trainer's parameter groups (weight decay on weights, none on norms and biases).
_FREE_OPTIMIZER = '''\


def make_optimizer(model: torch.nn.Module, lr: float = {lr!r}, weight_decay: float = {wd!r}):
    """Schedule-free {name} (Defazio et al. 2024): no decay; it evaluates at an average of
    the iterates. Call optimizer.train() before training steps and optimizer.eval() before
    evaluating or saving; with BatchNorm, re-estimate its statistics after optimizer.eval()
    (a few dozen training batches forward in model.train() mode).{lr_note}
    """
    decay = [p for p in model.parameters() if p.ndim > 1]
    rest = [p for p in model.parameters() if p.ndim <= 1]
    groups = [
        {{"params": decay, "weight_decay": weight_decay}},
        {{"params": rest, "weight_decay": 0.0}},
    ]
    # warmup_steps=0: the warm-up is make_scheduler's ramp
    return schedulefree.{cls}(groups, lr=lr, {momentum}warmup_steps=0)
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
    weight_decay: float | None = None,
) -> str:
    """A self-contained PyTorch snippet, ``make_scheduler(optimizer, total_steps)``, that
    rebuilds this schedule at any run length (and ``make_optimizer(model)`` for a family that
    swaps the optimizer; ``weight_decay``: the study's, by default the spec's default)."""
    if isinstance(config, dict):
        config = parse_schedule(config)
    summary = f"schedsearch schedule {config.family}: {json.dumps(config.params())}"
    if base_lr is not None:
        found_with = f" and {optimizer}" if optimizer else ""
        summary += f"\n    Found with base LR {base_lr!r}{found_with}."
    per_epoch = config.per_epoch
    main = config.code()
    imports = "import math\n" if "math." in main else ""  # for LambdaLR formulas
    free = ""
    if config.swaps_optimizer:
        kind = optimizer or "sgd"
        lr = base_lr if base_lr is not None else USUAL_LR[kind]
        imports += "import schedulefree  # pip install schedulefree\n"
        free = _FREE_OPTIMIZER.format(
            lr=float(f"{optimizer_lr(lr, kind):.6g}"),
            wd=_DEFAULT_DECAY if weight_decay is None else weight_decay,
            lr_note=(
                ""
                if kind == "adamw"
                else f"\n\n    lr is the base LR found ({lr:.6g}) / (1 - momentum): schedule-free "
                "SGD's steps\n    lack momentum's 1 / (1 - momentum) gain."
            ),
            name=optimizer_class(kind).removesuffix("ScheduleFree"),
            cls=optimizer_class(kind),
            momentum="" if kind == "adamw" else f"momentum={MOMENTUM!r}, ",
        )
    if imports:
        imports += "\n"
    code = _CODE.format(
        imports=imports,
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
    return code + free

"""The LR range test (Smith 2015; torch-lr-finder, fastai's ``lr_find``): a few optimizer steps
with the LR rising exponentially, the loss recorded at each, to find where learning is fastest
before a search spends trials on LRs that barely move or blow up.

It starts exactly like a trial (``train.Learner``: same seed, model, optimizer, augmentation
and precision), so what it measures is what the trials will train. Reading the curve is
``core.range_test``'s job.
"""

from __future__ import annotations

import math
from collections.abc import Iterator

import torch

from schedsearch.core.range_test import Ema, RangeTest, steepest
from schedsearch.engine.data import TensorData
from schedsearch.engine.train import Learner, TrainConfig

# Fastai's and torch-lr-finder's default: 100 steps over SGD's five decades is 20 per decade, a
# grid finer than the seed-to-seed spread of the suggestion (about 0.2 decade on digits), and
# it costs about six epochs on digits (16 batches of 64), a fraction of one on CIFAR-10.
RANGE_STEPS = 100
# Sweeps from where nothing happens yet to past divergence, so the curve has both ends.
# SGD with Nesterov momentum 0.9 on BatchNorm nets learns from about 1e-2 and blows up around
# 1..10 (the search's default range is 0.01..1); AdamW's normalised steps want LRs some three
# decades smaller (its default range is 1e-5..1e-1), and 1 is past divergence for it.
SWEEPS: dict[str, tuple[float, float]] = {"sgd": (1e-4, 10.0), "adamw": (1e-6, 1.0)}
# Smoothing of the recorded losses. An EMA lags by ~beta/(1-beta) steps, and at 20 steps per
# decade the lag moves the steepest point to a higher LR: on digits (SGD, no augmentation,
# seed 0, full sweep) the raw curve is steepest at 0.19, beta 0.9 reads 0.39 and fastai's 0.98
# reads 0.55; 0.98 also flattens the diverging tail so much that the sweep never stops early.
# 0.9 (about 10 batches) still averages the batch noise away: over seeds 0-2 its suggestions
# spread no wider than 0.98's, while 0.8 reads lower but noisier.
BETA = 0.9


def _batches(learner: Learner) -> Iterator[torch.Tensor]:
    """Batch indices without end: a fresh shuffle each epoch, as ``train`` draws them."""
    while True:
        order = learner.shuffle()
        for step in range(learner.steps_per_epoch):
            yield order[step * learner.batch : (step + 1) * learner.batch]


def lr_range_test(
    data: TensorData,
    config: TrainConfig,
    steps: int = RANGE_STEPS,
    start_lr: float | None = None,
    end_lr: float | None = None,
    diverge_factor: float = 4.0,
) -> RangeTest:
    """Sweep the LR geometrically from ``start_lr`` to ``end_lr`` over ``steps`` optimizer
    steps (defaults: ``SWEEPS`` for the config's optimizer), and read the steepest descent.

    The sweep ends early once the smoothed loss is not finite or exceeds ``diverge_factor``
    times its minimum (fastai's rule; torch-lr-finder's is 5): the rest of the curve would
    only be divergence, and each step costs. The loss is read once per step, which the
    divergence check needs; a hundred syncs are nothing next to the steps themselves.
    """
    default_start, default_end = SWEEPS[config.optimizer]
    start = default_start if start_lr is None else start_lr
    end = default_end if end_lr is None else end_lr
    if steps < 2:
        raise ValueError(f"a range test needs at least 2 steps, got {steps}")
    if not 0.0 < start < end:
        raise ValueError(f"the LR must rise: start {start!r}, end {end!r}")
    if not diverge_factor > 1.0:
        raise ValueError(f"diverge_factor must exceed 1, got {diverge_factor!r}")
    learner = Learner.start(data, config, start)
    learner.model.train()
    batches = _batches(learner)
    ema = Ema(BETA)
    lrs: list[float] = []
    losses: list[float] = []
    stopped: str | None = None
    lowest, run = math.inf, 0
    for step in range(steps):
        lr = start * (end / start) ** (step / (steps - 1))
        for group in learner.optimizer.param_groups:
            group["lr"] = lr
        loss = learner.step(next(batches)).item()
        run += 1
        smoothed = ema.add(loss)
        if not math.isfinite(smoothed):
            stopped = f"the loss became {loss:.4g} at LR {lr:.4g} (step {run})"
            break
        lrs.append(lr)
        losses.append(smoothed)
        lowest = min(lowest, smoothed)
        if smoothed > diverge_factor * lowest:
            stopped = (
                f"the smoothed loss reached {smoothed:.4g}, over {diverge_factor:g}x its "
                f"minimum {lowest:.4g}, at LR {lr:.4g} (step {run})"
            )
            break
    if not losses:
        raise ValueError(f"{stopped}: not one finite loss to read (is the data broken?)")
    return RangeTest(
        lrs=lrs,
        losses=losses,
        suggestion=steepest(lrs, losses),
        steps=run,
        epochs=run / learner.steps_per_epoch,
        stopped=stopped,
    )

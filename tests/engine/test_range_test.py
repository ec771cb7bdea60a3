"""The LR range test on real data (digits), on the CPU: a geometric sweep from the trial's own
starting point, reproducible by seed, that stops when the loss diverges."""

from __future__ import annotations

import math

import pytest
import torch

from schedsearch.core.range_test import RangeTest
from schedsearch.engine.data import load_dataset
from schedsearch.engine.range_test import SWEEPS, lr_range_test
from schedsearch.engine.train import TrainConfig
from schedsearch.reports.plots import range_test_png

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def digits():
    torch.set_num_threads(1)
    return load_dataset("digits", "cpu", seed=0)


def test_the_lr_rises_geometrically_and_the_suggestion_lies_in_the_sweep(digits) -> None:
    result = lr_range_test(digits, TrainConfig.of(augment=False), steps=40, start_lr=1e-3, end_lr=1)
    assert result.stopped is None and result.steps == len(result.lrs) == 40
    assert result.lrs[0] == 1e-3 and result.lrs[-1] == pytest.approx(1.0)
    ratios = [b / a for a, b in zip(result.lrs, result.lrs[1:], strict=False)]
    assert ratios == pytest.approx([1e3 ** (1 / 39)] * 39)
    assert all(math.isfinite(loss) for loss in result.losses)
    assert result.losses[-1] < result.losses[0]  # it learned something along the way
    assert result.lrs[0] <= result.suggestion <= result.lrs[-1]
    assert result.epochs == 40 / (len(digits.train_x) // 64)  # 16 batches of 64 per epoch


def test_default_sweeps_follow_the_optimizer(digits) -> None:
    for optimizer in ("sgd", "adamw"):
        start, end = SWEEPS[optimizer]
        result = lr_range_test(digits, TrainConfig.of(optimizer=optimizer), steps=3)
        assert result.lrs[0] == start, optimizer
        assert result.lrs[1] == pytest.approx(math.sqrt(start * end)), optimizer


def test_the_same_seed_gives_the_same_test(digits) -> None:
    config = TrainConfig.of(seed=3)  # augmentation on: its randomness is seeded too
    first = lr_range_test(digits, config, steps=30, start_lr=1e-3, end_lr=1.0)
    assert lr_range_test(digits, config, steps=30, start_lr=1e-3, end_lr=1.0) == first
    other = lr_range_test(digits, TrainConfig.of(seed=4), steps=30, start_lr=1e-3, end_lr=1.0)
    assert other.losses != first.losses


def test_an_absurd_end_lr_stops_the_sweep_early(digits) -> None:
    result = lr_range_test(digits, TrainConfig.of(augment=False), steps=60, end_lr=1e4)
    assert result.stopped and "LR" in result.stopped, result.stopped
    assert len(result.lrs) <= result.steps < 60
    assert all(math.isfinite(loss) for loss in result.losses)
    assert result.lrs[0] <= result.suggestion < 1e4
    assert RangeTest.model_validate_json(result.model_dump_json()) == result  # storable


def test_bad_arguments_are_refused(digits) -> None:
    config = TrainConfig.of()
    with pytest.raises(ValueError, match="at least 2 steps"):
        lr_range_test(digits, config, steps=1)
    with pytest.raises(ValueError, match="must rise"):
        lr_range_test(digits, config, start_lr=1.0, end_lr=0.1)
    with pytest.raises(ValueError, match="diverge_factor"):
        lr_range_test(digits, config, diverge_factor=1.0)


def test_the_plot_is_a_png(digits) -> None:
    result = lr_range_test(digits, TrainConfig.of(), steps=20, start_lr=1e-3, end_lr=1.0)
    assert range_test_png(result).startswith(PNG)
    off_the_curve = result.model_copy(update={"suggestion": result.lrs[0] / 10})  # a fallback
    assert range_test_png(off_the_curve).startswith(PNG)

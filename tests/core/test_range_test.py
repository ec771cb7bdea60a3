"""Reading a range test, on synthetic curves with a known answer: a logistic drop in log(LR)
is steepest at its centre, whatever noise, smoothing or diverging tail surrounds it."""

from __future__ import annotations

import math
import random

import pytest
from pydantic import ValidationError

from schedsearch.core.range_test import RangeTest, search_range, smooth, steepest

N = 100
LRS = [1e-4 * 1e5 ** (i / (N - 1)) for i in range(N)]  # SGD's default sweep: 20 per decade
GRID = 5 / (N - 1)  # one step, in decades


def curve(centre: float, spike: bool = False, drop: float = 2.0) -> list[float]:
    """ln(10) falling by ``drop`` around ``centre`` (a quarter-decade wide), then diverging past
    LR 1; with ``spike``, the divergence jumps up and falls back (BatchNorm nets do), a descent
    far steeper than the real one that must not count."""
    losses = []
    for lr in LRS:
        x = math.log10(lr)
        fall = drop / (1.0 + math.exp(-(x - math.log10(centre)) / 0.25))
        loss = 2.3 - fall + 0.05 * 10 ** (3 * x)
        if spike and x > 0.3:
            loss = 2.3 + 6.0 * math.exp(-(((x - 0.6) / 0.1) ** 2))
        losses.append(loss)
    return losses


def decades(a: float, b: float) -> float:
    return abs(math.log10(a / b))


def dipped(centre: float, depth: float) -> list[float]:
    """A shallow descent (0.4, as a noisy-label task's first 100 steps show) around ``centre``,
    then a narrow dip of ``depth`` at LR 0.8 that holds the minimum: noise that a real curve
    shows where the descent flattens out."""
    return [
        loss - depth * math.exp(-(((math.log10(lr) + 0.1) / 0.05) ** 2))
        for lr, loss in zip(LRS, curve(centre, drop=0.4), strict=True)
    ]


@pytest.mark.parametrize("centre", [1e-3, 0.01, 0.05, 0.3])
def test_steepest_is_the_centre_of_the_drop(centre: float) -> None:
    assert decades(steepest(LRS, curve(centre)), centre) <= GRID / 2


def test_the_diverging_tail_after_the_minimum_is_ignored() -> None:
    losses = curve(0.05, spike=True)
    assert max(losses) > 8.0 and losses.index(max(losses)) > losses.index(min(losses))
    assert decades(steepest(LRS, losses), 0.05) <= GRID / 2


@pytest.mark.parametrize("centre", [0.01, 0.05])
def test_the_dip_into_the_minimum_is_not_the_steepest_point(centre: float) -> None:
    """Only central slopes count: one clipped at the minimum read the dip into it (the whole
    reading jumped to the minimum's LR, a decade or two off)."""
    losses = dipped(centre, 0.15)
    lowest = LRS[losses.index(min(losses))]
    assert decades(lowest, centre) > 1.0
    assert decades(steepest(LRS, losses), centre) <= GRID / 2
    # A dip at least about half as deep as the whole descent still wins, but only on its
    # flank: the last central slope ends at the minimum, one span (5 points) from the reading.
    for depth in (0.3, 0.5):
        assert steepest(LRS, dipped(centre, depth)) == LRS[LRS.index(lowest) - 5]


@pytest.mark.parametrize("seed", range(5))
def test_noise_moves_the_reading_little(seed: int) -> None:
    rng = random.Random(seed)
    clean = curve(0.05)
    noisy = [loss + rng.gauss(0.0, 0.1) for loss in clean]  # 5% of the drop, per batch
    # smoothed: noise shifts the reading by at most a few grid steps
    assert decades(steepest(LRS, smooth(noisy, 0.9)), steepest(LRS, smooth(clean, 0.9))) <= 0.16
    # unsmoothed but mildly noisy: the wide stencil still finds the centre
    jitter = [loss + rng.gauss(0.0, 0.02) for loss in clean]
    assert decades(steepest(LRS, jitter), 0.05) <= 2 * GRID


def test_smoothing_lags_towards_higher_lrs() -> None:
    """Why the engine smooths with 0.9, not fastai's 0.98: the EMA's lag moves the reading."""
    lag_09 = math.log10(steepest(LRS, smooth(curve(0.05), 0.9)) / 0.05)
    lag_098 = math.log10(steepest(LRS, smooth(curve(0.05), 0.98)) / 0.05)
    assert 0.0 < lag_09 < 0.4 and lag_098 > lag_09


def test_no_descent_falls_back_to_a_tenth_of_the_minimum() -> None:
    flat = [2.3] * N
    assert steepest(LRS, flat) == pytest.approx(LRS[10] / 10)  # the first point after warm-in
    drifting = [2.3 - 0.02 * i / N for i in range(N)]  # falls 1%: no real descent
    assert steepest(LRS, drifting) == pytest.approx(LRS[-1] / 10)
    rising = [2.3 + i / N for i in range(N)]
    assert steepest(LRS, rising) == pytest.approx(LRS[10] / 10)
    rng = random.Random(0)
    noisy_flat = [2.3 + rng.gauss(0.0, 0.02) for _ in range(N)]
    assert steepest(LRS, smooth(noisy_flat, 0.9)) in [lr / 10 for lr in LRS]


def test_steepest_refuses_what_it_cannot_read() -> None:
    with pytest.raises(ValueError, match="no points"):
        steepest([], [])
    with pytest.raises(ValueError, match="2 LRs but 1 losses"):
        steepest([0.1, 0.2], [1.0])
    with pytest.raises(ValueError, match="positive"):
        steepest([0.0, 0.1], [1.0, 0.5])
    assert steepest([0.1], [1.0]) == pytest.approx(0.01)  # one point: the fallback


def test_smooth_is_a_bias_corrected_ema() -> None:
    assert smooth([2.0] * 5) == pytest.approx([2.0] * 5)  # uncorrected, it would start at 0.04
    assert smooth([1.0, 0.0], beta=0.5) == pytest.approx([1.0, 1 / 3])  # 0.25 / (1 - 0.25)
    assert smooth([3.0, 1.0, 2.0], beta=0.0) == [3.0, 1.0, 2.0]
    assert smooth([]) == []
    with pytest.raises(ValueError, match="beta"):
        smooth([1.0], beta=1.0)


def test_search_range_is_centred_in_log_space() -> None:
    assert search_range(0.1, 1e-4, 10.0) == pytest.approx((0.01, 1.0))
    assert search_range(0.1, 1e-4, 10.0, decades=0.5) == pytest.approx(
        (0.1 / 10**0.5, 0.1 * 10**0.5)
    )


def test_search_range_slides_inside_the_bounds_keeping_its_width() -> None:
    assert search_range(2e-3, 1e-3, 10.0) == pytest.approx((1e-3, 0.1))
    assert search_range(5.0, 1e-3, 10.0) == pytest.approx((0.1, 10.0))
    assert search_range(100.0, 1e-3, 10.0) == pytest.approx((0.1, 10.0))  # outside: the edge
    assert search_range(0.1, 0.05, 0.5) == (0.05, 0.5)  # bounds narrower than the range


def test_search_range_refuses_nonsense() -> None:
    for args in [(0.1, 1.0, 0.1), (0.1, 0.0, 1.0), (0.0, 1e-3, 1.0), (math.nan, 1e-3, 1.0)]:
        with pytest.raises(ValueError):
            search_range(*args)
    with pytest.raises(ValueError, match="decades"):
        search_range(0.1, 1e-3, 1.0, decades=0.0)


def test_a_range_test_is_json_and_checked() -> None:
    result = RangeTest(
        lrs=[1e-3, 1e-2], losses=[2.3, 2.0], suggestion=1e-2, steps=2, epochs=0.125, stopped=None
    )
    assert RangeTest.model_validate_json(result.model_dump_json()) == result
    with pytest.raises(ValidationError, match="2 LRs but 1 losses"):
        RangeTest(lrs=[1e-3, 1e-2], losses=[2.3], suggestion=1e-2, steps=2, epochs=0.1)
    with pytest.raises(ValidationError):
        RangeTest(lrs=[1e-3], losses=[math.nan], suggestion=1e-3, steps=1, epochs=0.1)
    with pytest.raises(ValidationError):
        result.suggestion = 0.5  # type: ignore[misc]

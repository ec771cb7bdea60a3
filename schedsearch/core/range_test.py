"""Reading an LR range test (Smith 2015, "Cyclical Learning Rates"; torch-lr-finder and fastai's
``lr_find``): train a few steps while the LR grows exponentially, and read off where the loss
falls fastest.

Pure Python: the engine runs the test (``schedsearch.engine.range_test``), this module smooths
its losses, picks the suggestion and turns it into a base-LR search range, so the API and the
reports can read a stored result without torch.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from pydantic import BaseModel, ConfigDict, Field, model_validator

# The first tenth of the points is the EMA's warm-in (an average of a handful of batches): both
# torch-lr-finder and fastai skip the first 10 of their 100 by default.
WARM_IN_FRACTION = 0.1
# Slopes are taken across +-5% of the points (fewer for a shorter descent), not between
# neighbours: what is left of the noise after smoothing would otherwise pick a single jagged step
# as "the steepest".
SPAN_FRACTION = 0.05
# A curve whose loss falls by less than this fraction before its minimum shows no descent to
# read (a flat curve, a sweep that began too late): the fallback applies.
MIN_DROP = 0.05


class RangeTest(BaseModel):
    """One range test's outcome, as stored and served (JSON)."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    lrs: list[float] = Field(description="the LR of each recorded step, rising geometrically")
    losses: list[float] = Field(description="the training loss at each LR, smoothed (EMA)")
    suggestion: float = Field(gt=0.0, description="the LR where the loss falls fastest")
    steps: int = Field(ge=0, description="optimizer steps run")
    epochs: float = Field(ge=0.0, description="what the test cost, in epochs of training")
    stopped: str | None = Field(None, description="why the sweep ended early (divergence)")

    @model_validator(mode="after")
    def _paired(self) -> RangeTest:
        if len(self.lrs) != len(self.losses):
            raise ValueError(f"{len(self.lrs)} LRs but {len(self.losses)} losses")
        return self


class Ema:
    """An exponential moving average with fastai's bias correction: the average of the first
    values is not pulled towards the zero it starts from, so early points are usable too."""

    def __init__(self, beta: float = 0.98) -> None:
        if not 0.0 <= beta < 1.0:
            raise ValueError(f"beta must be in [0, 1), got {beta!r}")
        self.beta = beta
        self._average = 0.0
        self._count = 0

    def add(self, value: float) -> float:
        """Take in one value; the corrected average so far."""
        self._count += 1
        self._average = self.beta * self._average + (1.0 - self.beta) * value
        return self._average / (1.0 - self.beta**self._count)


def smooth(losses: Sequence[float], beta: float = 0.98) -> list[float]:
    """The bias-corrected EMA of ``losses`` (as torch-lr-finder and fastai smooth them): one
    minibatch's loss is too noisy to differentiate."""
    ema = Ema(beta)
    return [ema.add(loss) for loss in losses]


def steepest(lrs: Sequence[float], losses: Sequence[float]) -> float:
    """The LR where the (smoothed) loss falls fastest against log(LR): Smith's reading of a
    range test, and fastai's ``steep`` suggestion.

    Only the points between the warm-in (the first tenth) and the loss minimum count: beyond
    the minimum the loss diverges, and its swings there are no descent. Slopes are central
    differences across a span of points (``SPAN_FRACTION``) lying wholly inside that stretch,
    robust to leftover noise. When the curve shows no real descent (it falls by less than
    ``MIN_DROP`` of its starting value, or not at all), the answer is a tenth of the LR at the
    minimum loss: fastai's other rule, safe because the loss still falls there and a tenth of
    it stays clear of divergence.
    """
    if len(lrs) != len(losses):
        raise ValueError(f"{len(lrs)} LRs but {len(losses)} losses")
    if not lrs:
        raise ValueError("no points to read")
    if min(lrs) <= 0.0:
        raise ValueError("LRs must be positive")
    n = len(losses)
    first = int(n * WARM_IN_FRACTION)
    lowest = min(range(first, n), key=lambda i: losses[i])
    fallback = lrs[lowest] / 10.0
    drop = losses[first] - losses[lowest]
    if lowest - first < 2 or drop <= MIN_DROP * abs(losses[first]):
        return fallback
    # Central differences only: a slope clipped at either end of the descent is one-sided, and
    # at the minimum it read the last dip into it, noise included, as the steepest point (on
    # 40%-noise digits it put 2 of 16 seeds at 3.6x and 8x the median). The last central slope
    # still ends at the minimum, but spreads a dip over twice the distance: only a dip about
    # half as deep as the whole descent can still win, and then on its flank. A descent too
    # short for the span gets a shorter one, still central.
    span = min(max(1, round(n * SPAN_FRACTION)), (lowest - first) // 2)
    best, best_slope = lowest, 0.0
    for i in range(first + span, lowest - span + 1):
        left, right = i - span, i + span
        run = math.log(lrs[right]) - math.log(lrs[left])
        if run <= 0.0:
            continue
        slope = (losses[right] - losses[left]) / run
        if slope < best_slope:
            best, best_slope = i, slope
    return lrs[best] if best_slope < 0.0 else fallback


def search_range(
    suggestion: float, low: float, high: float, decades: float = 1.0
) -> tuple[float, float]:
    """A base-LR search range ``decades`` either side of ``suggestion`` (in log space), inside
    the hard bounds [low, high]: a range that would cross a bound slides back inside whole, so
    the search keeps its width; only bounds narrower than the range cut it to [low, high]."""
    if not 0.0 < low < high:
        raise ValueError(f"bounds must satisfy 0 < low < high, got [{low!r}, {high!r}]")
    if not suggestion > 0.0 or not math.isfinite(suggestion):
        raise ValueError(f"the suggestion must be a positive LR, got {suggestion!r}")
    if not decades > 0.0:
        raise ValueError(f"decades must be positive, got {decades!r}")
    factor = 10.0**decades
    if high / low <= factor * factor:
        return low, high
    lo, hi = suggestion / factor, suggestion * factor
    if lo < low:
        return low, low * factor * factor
    if hi > high:
        return high / (factor * factor), high
    return lo, hi

"""The torch schedulers a trial steps, and the snippet users get, against the closed form: a
real optimizer on a real (tiny) model, step for step, every family, with and without warm-up."""

from __future__ import annotations

import pytest
import torch

from schedsearch.core.curves import lr_curve
from schedsearch.core.snippet import to_code
from schedsearch.engine.schedulers import build_scheduler
from tests.core.schedule_cases import BASE_LR, CONFIGS, LENGTHS, WARMED, ids


def torch_lrs(config: dict, epochs: int, steps_per_epoch: int, metrics=None) -> list[float]:
    """The LR torch actually used at each step, training a real (tiny) model."""
    torch.manual_seed(0)
    model = torch.nn.Linear(3, 2)
    optimizer = torch.optim.SGD(model.parameters(), lr=BASE_LR, momentum=0.9)
    schedule = build_scheduler(optimizer, config, epochs * steps_per_epoch, steps_per_epoch)
    seen = []
    for epoch in range(epochs):
        for _ in range(steps_per_epoch):
            seen.append(optimizer.param_groups[0]["lr"])
            loss = model(torch.randn(4, 3)).square().mean()
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            schedule.step()
        if metrics is not None:
            schedule.epoch_end(metrics[epoch])
    return seen


def snippet_lrs(config: dict, epochs: int, steps_per_epoch: int, metrics=None) -> list[float]:
    """The LR of ``to_code``'s snippet, executed in a fresh namespace, driven as it says."""
    namespace: dict = {}
    exec(to_code(config), namespace)
    model = torch.nn.Linear(3, 2)
    optimizer = torch.optim.SGD(model.parameters(), lr=BASE_LR, momentum=0.9)
    built = namespace["make_scheduler"](optimizer, epochs * steps_per_epoch)
    ramp, plateau = built if isinstance(built, tuple) else (None, None)
    seen, done = [], 0
    for epoch in range(epochs):
        for _ in range(steps_per_epoch):
            seen.append(optimizer.param_groups[0]["lr"])
            optimizer.step()
            done += 1
            if plateau is None:
                built.step()
            elif ramp is not None and done <= ramp.total_iters:
                ramp.step()
        if (
            plateau is not None
            and metrics is not None
            and (ramp is None or done >= ramp.total_iters)
        ):
            plateau.step(metrics[epoch])
    return seen


@pytest.mark.parametrize("config", CONFIGS + WARMED, ids=ids)
@pytest.mark.parametrize(("epochs", "steps_per_epoch"), LENGTHS)
def test_curve_matches_torch_and_snippet(config: dict, epochs: int, steps_per_epoch: int) -> None:
    total = epochs * steps_per_epoch
    curve = lr_curve(config, total, BASE_LR, steps_per_epoch)
    assert torch_lrs(config, epochs, steps_per_epoch) == pytest.approx(curve, rel=1e-9, abs=1e-12)
    assert snippet_lrs(config, epochs, steps_per_epoch) == pytest.approx(curve, rel=1e-12)


@pytest.mark.parametrize("t_mult", [1, 2, 3, 4])
@pytest.mark.parametrize("first_period", [1e-4, 1e-3])
def test_shrinking_restarts_match_at_every_cycle_boundary(t_mult: int, first_period: float) -> None:
    """Cycles of 1 or 3 steps over 3000 steps: dozens of restarts (hundreds at t_mult 1), where
    the LambdaLR's cycle index (a log, for growing cycles) must land exactly."""
    config = {"family": "cosine_restarts", "first_period": first_period, "t_mult": t_mult}
    config |= {"m_mul": 0.9, "eta_min": 0.01}
    curve = lr_curve(config, 3000, BASE_LR)
    assert torch_lrs(config, 1, 3000) == pytest.approx(curve, rel=1e-9, abs=1e-15)
    assert snippet_lrs(config, 1, 3000) == pytest.approx(curve, rel=1e-12, abs=1e-15)


@pytest.mark.parametrize("warmup", [0.0, 0.2])
@pytest.mark.parametrize(("epochs", "steps_per_epoch"), [(1, 1), (12, 1), (10, 7)])
def test_plateau_follows_the_metric(warmup: float, epochs: int, steps_per_epoch: int) -> None:
    config = {"family": "plateau", "factor": 0.5, "patience": 1, "warmup": warmup}
    metrics = [0.5, 0.6, 0.6, 0.6, 0.7, 0.7, 0.7, 0.7, 0.9, 0.9, 0.9, 0.9][:epochs]
    total = epochs * steps_per_epoch
    curve = lr_curve(config, total, BASE_LR, steps_per_epoch, metrics)
    assert torch_lrs(config, epochs, steps_per_epoch, metrics) == pytest.approx(curve)
    assert snippet_lrs(config, epochs, steps_per_epoch, metrics) == pytest.approx(curve)
    if epochs == 12 and warmup == 0.0:  # two bad epochs after 0.6 and after 0.7, 0.9: three cuts
        assert curve[-1] == pytest.approx(BASE_LR * 0.5**3)


def test_plateau_respects_min_lr_and_mode_min() -> None:
    config = {"family": "plateau", "factor": 0.1, "patience": 0, "min_factor": 0.05, "mode": "min"}
    losses = [1.0, 1.0, 1.0, 1.0]  # never improves: cut every epoch, floored at 5% of base
    curve = lr_curve(config, 4, BASE_LR, 1, losses)
    assert curve == pytest.approx([0.1, 0.1, 0.01, 0.005])
    assert torch_lrs(config, 4, 1, losses) == pytest.approx(curve)


def test_bad_run_lengths_are_refused() -> None:
    optimizer = torch.optim.SGD(torch.nn.Linear(1, 1).parameters(), lr=0.1)
    with pytest.raises(ValueError, match="at least 1"):
        build_scheduler(optimizer, {"family": "cosine"}, 0, 1)

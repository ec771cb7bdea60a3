"""Every schedule family: closed form, torch stepping a real optimizer, warm-up, JSON, snippet."""

from __future__ import annotations

import itertools
import math

import pytest
import torch
from pydantic import ValidationError

from schedsearch.schedules import (
    FAMILIES,
    ScheduleBase,
    build_scheduler,
    lr_curve,
    parse_schedule,
    to_code,
)

BASE_LR = 0.1
LENGTHS = [(1, 1), (2, 1), (7, 1), (5, 20), (30, 11)]  # (epochs, steps_per_epoch)


def textbook(u: int, n: int, config: ScheduleBase) -> float:
    """The published formula of each family, written out independently of the library.

    ``u`` is the step within the family's phase and ``n`` that phase's length in steps.
    """
    c = config
    if c.family == "constant":
        return 1.0
    if c.family == "step":
        return c.gamma ** (u // max(1, round(c.step_size * n)))
    if c.family == "multistep":
        return c.gamma ** len([m for m in c.milestones if u >= max(1, round(m * n))])
    if c.family == "exponential":
        return math.exp(u / n * math.log(c.final_factor))
    if c.family == "linear":
        return 1 - (1 - c.end_factor) * min(u, n) / n
    if c.family == "polynomial":
        return c.end_factor + (1 - c.end_factor) * (1 - min(u, n) / n) ** c.power
    if c.family == "cosine":
        return c.eta_min + (1 - c.eta_min) * 0.5 * (1 + math.cos(math.pi * u / n))
    if c.family == "cosine_restarts":
        period = max(1, round(c.first_period * n))
        if c.t_mult == 1:
            t_cur = u % period
        else:  # Loshchilov & Hutter: period i is T0 * mult^i
            i = int(math.log(u / period * (c.t_mult - 1) + 1, c.t_mult))
            t_cur = u - period * (c.t_mult**i - 1) / (c.t_mult - 1)
            period = period * c.t_mult**i
        return c.eta_min + (1 - c.eta_min) * 0.5 * (1 + math.cos(math.pi * t_cur / period))
    if c.family == "cyclic":  # Smith (2017), eq. for triangular / triangular2 / exp_range
        step = max(1, round(c.half_cycle * n))
        cycle = math.floor(1 + u / (2 * step))
        x = abs(u / step - 2 * cycle + 1)
        amp = (1 - c.min_factor) * max(0, 1 - x)
        if c.mode == "triangular2":
            amp /= 2 ** (cycle - 1)
        if c.mode == "exp_range":
            amp *= c.amplitude_decay ** (u / n)
        return c.min_factor + amp
    if c.family == "one_cycle":
        lo, hi = 1 / c.div_factor, 1.0
        final = lo / c.final_div_factor
        peak = c.pct_start * n - 1
        if peak == 0:  # a rise of exactly one step: it ends where it starts
            peak = 1e-9
        if u <= peak:
            a, b, pct = lo, hi, u / peak
        else:
            a, b, pct = hi, final, (u - peak) / (n - 1 - peak)
        if c.anneal == "linear":
            return a + (b - a) * pct
        return b + (a - b) * 0.5 * (1 + math.cos(math.pi * pct))
    if c.family == "plateau":
        return 1.0
    raise AssertionError(c.family)


CONFIGS = [
    {"family": "constant"},
    {"family": "step"},
    {"family": "step", "step_size": 0.2, "gamma": 0.5},
    {"family": "multistep"},
    {"family": "multistep", "milestones": [0.3, 0.6, 0.9], "gamma": 0.3},
    {"family": "exponential", "final_factor": 0.05},
    {"family": "linear"},
    {"family": "linear", "end_factor": 0.1},
    {"family": "polynomial", "power": 0.5, "end_factor": 0.05},
    {"family": "polynomial", "power": 2.0},
    {"family": "cosine"},
    {"family": "cosine", "eta_min": 0.05},
    {"family": "cosine_restarts", "first_period": 0.2, "t_mult": 1, "eta_min": 0.01},
    {"family": "cosine_restarts", "first_period": 0.1, "t_mult": 2},
    {"family": "cyclic", "mode": "triangular", "half_cycle": 0.1},
    {"family": "cyclic", "mode": "triangular2", "half_cycle": 0.05, "min_factor": 0.2},
    {"family": "cyclic", "mode": "exp_range", "half_cycle": 0.1, "amplitude_decay": 0.1},
    {"family": "one_cycle"},
    {"family": "one_cycle", "pct_start": 0.4, "anneal": "linear", "div_factor": 10.0},
    {"family": "one_cycle", "pct_start": 0.5},  # a one-step rise at 2 steps: torch divides by 0
    {"family": "plateau"},
]
WARMED = [{**c, "warmup": 0.1} for c in CONFIGS] + [{"family": "cosine", "warmup": 0.35}]


def ids(config: dict) -> str:
    return "-".join(f"{v}" for v in config.values())


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


@pytest.mark.parametrize("config", CONFIGS, ids=ids)
@pytest.mark.parametrize(("epochs", "steps_per_epoch"), LENGTHS)
def test_curve_matches_textbook_formula(config: dict, epochs: int, steps_per_epoch: int) -> None:
    total = epochs * steps_per_epoch
    parsed = parse_schedule(config)
    expected = [BASE_LR * textbook(u, total, parsed) for u in range(total)]
    assert lr_curve(config, total, BASE_LR) == pytest.approx(expected, rel=1e-9, abs=1e-12)


@pytest.mark.parametrize("config", CONFIGS + WARMED, ids=ids)
@pytest.mark.parametrize(("epochs", "steps_per_epoch"), LENGTHS)
def test_curve_matches_torch_and_snippet(config: dict, epochs: int, steps_per_epoch: int) -> None:
    total = epochs * steps_per_epoch
    curve = lr_curve(config, total, BASE_LR, steps_per_epoch)
    assert torch_lrs(config, epochs, steps_per_epoch) == pytest.approx(curve, rel=1e-9, abs=1e-12)
    assert snippet_lrs(config, epochs, steps_per_epoch) == pytest.approx(curve, rel=1e-12)


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


def test_warmup_ramps_linearly_into_the_family() -> None:
    curve = lr_curve({"family": "cosine", "warmup": 0.2}, 10, BASE_LR)
    assert curve[:3] == pytest.approx([BASE_LR / 3, 2 * BASE_LR / 3, BASE_LR])
    cosine_after = lr_curve({"family": "cosine"}, 8, BASE_LR)
    assert curve[2:] == pytest.approx(cosine_after)


@pytest.mark.parametrize("config", WARMED, ids=ids)
def test_warmup_never_jumps_above_where_the_family_starts(config: dict) -> None:
    total = 200
    curve = lr_curve(config, total, BASE_LR)
    warm = round(config["warmup"] * total)
    ramp, first = curve[:warm], curve[warm]
    assert all(b > a for a, b in itertools.pairwise(ramp))  # strictly rising
    assert ramp[-1] < first <= BASE_LR
    assert first - ramp[-1] == pytest.approx(first / (warm + 1))  # the same step as the ramp's


@pytest.mark.parametrize("family", list(FAMILIES))
def test_shape_transfers_across_run_lengths(family: str) -> None:
    """Fractions of the run: 5 short epochs and a 40x longer run trace the same shape."""
    config = {"family": family, "warmup": 0.0 if family in ("one_cycle", "cyclic") else 0.1}
    short = lr_curve(config, 400, BASE_LR)  # lengths where every default fraction is whole
    long = lr_curve(config, 16000, BASE_LR)
    for t, lr in enumerate(short):  # the same curve, up to one short step either way
        window = long[max(0, 40 * (t - 1)) : 40 * (t + 1) + 1]
        assert min(window) - 1e-12 <= lr <= max(window) + 1e-12, (t, lr)


@pytest.mark.parametrize("config", CONFIGS + WARMED, ids=ids)
def test_json_round_trip(config: dict) -> None:
    parsed = parse_schedule(config)
    assert parse_schedule(parsed.model_dump_json()) == parsed
    assert parse_schedule(parsed.model_dump(mode="json")) == parsed
    assert parsed.params() == {
        k: v for k, v in parsed.model_dump(mode="json").items() if k != "family"
    }


@pytest.mark.parametrize(
    ("config", "field"),
    [
        ({"family": "cosin"}, "family"),
        ({"family": "step", "gamma": 0.0}, "gamma"),
        ({"family": "step", "gamma": 1.5}, "gamma"),
        ({"family": "multistep", "milestones": [0.75, 0.5]}, "milestones"),
        ({"family": "multistep", "milestones": [0.5, 1.2]}, "milestones"),
        ({"family": "cosine", "warmup": 1.0}, "warmup"),
        ({"family": "cyclic", "mode": "sawtooth"}, "mode"),
        ({"family": "one_cycle", "div_factor": 0.5}, "div_factor"),
        ({"family": "plateau", "patience": -1}, "patience"),
        ({"family": "cosine", "eta_mn": 0.1}, "eta_mn"),
    ],
)
def test_bad_config_names_the_field(config: dict, field: str) -> None:
    with pytest.raises(ValidationError) as caught:
        parse_schedule(config)
    assert field in str(caught.value)


def test_snippet_is_self_contained_and_documents_itself() -> None:
    code = to_code({"family": "one_cycle", "pct_start": 0.25}, base_lr=0.4, optimizer="sgd")
    assert "schedsearch" not in code.split('"""')[0] + code.split('"""')[2]  # no import of us
    assert "0.4" in code and "one_cycle" in code
    compile(code, "<snippet>", "exec")


def test_bad_run_lengths_are_refused() -> None:
    optimizer = torch.optim.SGD(torch.nn.Linear(1, 1).parameters(), lr=0.1)
    with pytest.raises(ValueError, match="at least 1"):
        build_scheduler(optimizer, {"family": "cosine"}, 0, 1)
    with pytest.raises(ValueError, match="at least 1"):
        lr_curve({"family": "cosine"}, 0, 0.1)

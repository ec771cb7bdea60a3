"""Every schedule family without torch: closed form against the textbook formula, warm-up,
shape across run lengths, JSON, bad configs, the snippet's text. (The torch schedulers and the
executed snippet are checked step for step in ``tests/engine/test_schedulers.py``.)"""

from __future__ import annotations

import itertools
import math

import pytest
from pydantic import ValidationError

from schedsearch.core.curves import lr_curve
from schedsearch.core.schedules import FAMILIES, ScheduleBase, parse_schedule
from schedsearch.core.snippet import to_code
from tests.core.schedule_cases import BASE_LR, CONFIGS, LENGTHS, WARMED, ids


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
            i, t_cur = divmod(u, period)
        else:  # Loshchilov & Hutter: period i is T0 * mult^i
            i = int(math.log(u / period * (c.t_mult - 1) + 1, c.t_mult))
            t_cur = u - period * (c.t_mult**i - 1) / (c.t_mult - 1)
            period = period * c.t_mult**i
        cosine = c.eta_min + (1 - c.eta_min) * 0.5 * (1 + math.cos(math.pi * t_cur / period))
        return c.m_mul**i * cosine  # Keras' CosineDecayRestarts: cycle i is m_mul^i as high
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
    if c.family in ("plateau", "schedule_free"):  # schedule-free: the base LR, after warm-up
        return 1.0
    if c.family == "wsd":  # Hägele et al. (2024): constant, then a cool-down over the last part
        cool = max(1, round(c.decay * n))
        t = min(max(u - (n - cool), 0), cool) / cool  # progress through the cool-down
        shape = {
            "linear": 1 - t,
            "cosine": 0.5 * (1 + math.cos(math.pi * t)),
            "1-sqrt": 1 - math.sqrt(t),
        }[c.shape]
        return c.end_factor + (1 - c.end_factor) * shape
    raise AssertionError(c.family)


@pytest.mark.parametrize("config", CONFIGS, ids=ids)
@pytest.mark.parametrize(("epochs", "steps_per_epoch"), LENGTHS)
def test_curve_matches_textbook_formula(config: dict, epochs: int, steps_per_epoch: int) -> None:
    total = epochs * steps_per_epoch
    parsed = parse_schedule(config)
    expected = [BASE_LR * textbook(u, total, parsed) for u in range(total)]
    assert lr_curve(config, total, BASE_LR) == pytest.approx(expected, rel=1e-9, abs=1e-12)


def test_plateau_respects_min_lr_and_mode_min() -> None:
    config = {"family": "plateau", "factor": 0.1, "patience": 0, "min_factor": 0.05, "mode": "min"}
    losses = [1.0, 1.0, 1.0, 1.0]  # never improves: cut every epoch, floored at 5% of base
    curve = lr_curve(config, 4, BASE_LR, 1, losses)
    assert curve == pytest.approx([0.1, 0.1, 0.01, 0.005])


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
        ({"family": "cosine_restarts", "m_mul": 0.0}, "m_mul"),
        ({"family": "cosine_restarts", "m_mul": 1.5}, "m_mul"),
        ({"family": "wsd", "decay": 1.0}, "decay"),
        ({"family": "wsd", "decay": 0.0}, "decay"),
        ({"family": "wsd", "shape": "sqrt"}, "shape"),
        ({"family": "wsd", "end_factor": 1.5}, "end_factor"),
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
    with pytest.raises(ValueError, match="at least 1"):
        lr_curve({"family": "cosine"}, 0, 0.1)


@pytest.mark.parametrize("shape", ["linear", "cosine", "1-sqrt"])
def test_wsd_holds_the_base_lr_then_cools_down_to_its_end(shape: str) -> None:
    config = {"family": "wsd", "shape": shape, "decay": 0.25, "end_factor": 0.1}
    curve = lr_curve(config, 200, BASE_LR)
    assert curve[:151] == [BASE_LR] * 151  # stable until the last quarter starts
    assert all(b < a for a, b in itertools.pairwise(curve[150:]))  # then strictly down
    assert parse_schedule(config).multiplier(200, 200) == pytest.approx(0.1)  # ends at end x
    linear = lr_curve({**config, "shape": "linear"}, 200, BASE_LR)
    if shape == "1-sqrt":  # the paper's shape drops faster first: below linear all along
        assert all(a <= b for a, b in zip(curve, linear, strict=True))


@pytest.mark.parametrize("t_mult", [1, 2, 3])
def test_restart_peaks_shrink_by_m_mul(t_mult: int) -> None:
    config = {"family": "cosine_restarts", "first_period": 0.02, "t_mult": t_mult, "m_mul": 0.5}
    curve = lr_curve(config, 1000, BASE_LR)
    starts = [20 * (t_mult**i - 1) // (t_mult - 1) if t_mult > 1 else 20 * i for i in range(4)]
    assert [curve[s] for s in starts] == pytest.approx([BASE_LR * 0.5**i for i in range(4)])
    assert all(curve[s - 1] < curve[s] for s in starts[1:])  # each restart still jumps up


def test_configs_stored_without_m_mul_keep_sgdr_and_its_torch_scheduler() -> None:
    old = parse_schedule('{"family": "cosine_restarts", "first_period": 0.25, "t_mult": 2}')
    assert old.model_dump()["m_mul"] == 1.0
    assert old.code().startswith("lr_scheduler.CosineAnnealingWarmRestarts(")
    shrinking = parse_schedule({"family": "cosine_restarts", "m_mul": 0.5})
    assert shrinking.code().startswith("lr_scheduler.LambdaLR(")


def test_snippet_imports_math_only_for_formulas_that_use_it() -> None:
    for config in (
        {"family": "wsd", "shape": "cosine"},
        {"family": "cosine_restarts", "m_mul": 0.5},
    ):
        assert to_code(config).startswith("import math\n\nimport torch\n")
    assert to_code({"family": "cosine"}).startswith("import torch\n")
    compile(to_code({"family": "wsd"}), "<snippet>", "exec")

"""The conditional search space: samples stay in their family and their ranges, a config maps
back to the parameters that sample it, bad overrides name their field."""

from __future__ import annotations

import optuna
import pytest
from pydantic import ValidationError

from schedsearch.core.curves import lr_curve
from schedsearch.core.schedules import FAMILIES, Constant, Cosine, OneCycle
from schedsearch.core.space import (
    MIN_WARMUP,
    Choice,
    Fixed,
    Float,
    Int,
    SampledSchedule,
    SearchSpace,
    Warmup,
    as_params,
    describe,
    suggest,
)


def run_study(space: SearchSpace, n_trials: int, tmp_path, sampler=None) -> optuna.Study:
    """A real study on a SQLite file; the objective scores a schedule by its mean LR."""
    study = optuna.create_study(
        storage=f"sqlite:///{tmp_path / 'space.db'}",
        sampler=sampler or optuna.samplers.TPESampler(seed=1, group=True, n_startup_trials=20),
    )
    for _ in range(n_trials):
        trial = study.ask()
        sampled = suggest(trial, space)
        trial.set_user_attr("schedule", sampled.schedule.model_dump(mode="json"))
        trial.set_user_attr("base_lr", sampled.base_lr)
        curve = lr_curve(sampled.schedule, 50, sampled.base_lr)
        study.tell(trial, sum(curve) / len(curve))
    return study


def assert_inside(space: SearchSpace, trial: optuna.trial.FrozenTrial) -> None:
    family = trial.user_attrs["schedule"]["family"]
    assert family in space.families
    domains = space.domains(family)
    for name, value in trial.params.items():
        if name == "family":
            assert value == family
            continue
        owner, param = name.split(".", 1) if "." in name else (family, name)  # base_lr: shared
        assert owner == family, f"{name} sampled in a {family} trial"
        domain = domains[param]
        assert not isinstance(domain, Fixed), f"{name} is fixed and must not be sampled"
        assert domain.contains(value), f"{name}={value} outside {domain}"
    for param, domain in domains.items():  # fixed values reach the config untouched
        if isinstance(domain, Fixed) and param in trial.user_attrs["schedule"]:
            assert trial.user_attrs["schedule"][param] == domain.value
    assert domains["base_lr"].contains(trial.user_attrs["base_lr"])


def test_default_space_over_100_trials(tmp_path) -> None:
    space = SearchSpace()
    study = run_study(space, 100, tmp_path)
    families = set()
    for trial in study.trials:
        assert_inside(space, trial)
        families.add(trial.params["family"])
    assert families == set(FAMILIES)  # every family gets tried
    multistep = [t for t in study.trials if t.params["family"] == "multistep"]
    for trial in multistep:  # search-only params become the config's milestones
        start, count = trial.params["multistep.start"], trial.params["multistep.count"]
        milestones = trial.user_attrs["schedule"]["milestones"]
        assert len(milestones) == count and milestones[0] == pytest.approx(start)
    cyclic = [t for t in study.trials if t.params["family"] == "cyclic"]
    for trial in cyclic:  # amplitude_decay exists only for exp_range
        has_decay = "cyclic.amplitude_decay" in trial.params
        assert has_decay == (trial.params["cyclic.mode"] == "exp_range")


def test_overrides_narrow_the_space(tmp_path) -> None:
    space = SearchSpace(
        families=["cosine", "step", "cyclic"],
        base_lr={"low": 0.01, "high": 0.2, "log": True},
        params={
            "cosine": {"eta_min": 0.0, "warmup": {"low": 0.05, "high": 0.1}},
            "step": {"gamma": [0.1, 0.5], "base_lr": 0.05},
            "cyclic": {"mode": "exp_range", "half_cycle": {"low": 0.1, "high": 0.2}},
        },
    )
    assert space.domains("cosine")["eta_min"] == Fixed(0.0)
    assert space.domains("step")["gamma"] == Choice((0.1, 0.5))
    assert space.domains("cosine")["base_lr"] == Float(0.01, 0.2, log=True)
    study = run_study(space, 200, tmp_path, optuna.samplers.RandomSampler(seed=3))
    for trial in study.trials:
        assert_inside(space, trial)
    steps = [t for t in study.trials if t.params["family"] == "step"]
    assert steps and all(t.user_attrs["base_lr"] == 0.05 for t in steps)
    assert {t.params["family"] for t in study.trials} == {"cosine", "step", "cyclic"}


def test_as_params_keeps_to_the_users_ranges() -> None:
    space = SearchSpace(
        families=("cosine",),
        base_lr={"low": 0.001, "high": 0.05, "log": True},
        params={"cosine": {"eta_min": 0.01, "warmup": {"low": 0.1, "high": 0.2}}},
    )
    params = as_params(space, SampledSchedule(Cosine(eta_min=0.0, warmup=0.05), 0.1))
    # one family: not sampled; eta_min fixed by the user: left to the space; the rest clipped
    assert params == {"base_lr": 0.05, "cosine.warmup": 0.1}
    assert as_params(space, SampledSchedule(Constant(), 0.1)) is None  # not searched
    choices = SearchSpace(families=("one_cycle",), params={"one_cycle": {"anneal": ["linear"]}})
    one_cycle = as_params(choices, SampledSchedule(OneCycle(anneal="cos"), 0.1))
    assert one_cycle is not None and "one_cycle.anneal" not in one_cycle  # the sampler's pick


def test_one_family_needs_no_family_parameter(tmp_path) -> None:
    space = SearchSpace(
        families=["plateau"], params={"plateau": {"patience": {"low": 1, "high": 2}}}
    )
    assert space.domains("plateau")["patience"] == Int(1, 2)
    study = run_study(space, 10, tmp_path)
    assert all("family" not in t.params for t in study.trials)
    assert all(1 <= t.user_attrs["schedule"]["patience"] <= 2 for t in study.trials)


@pytest.mark.parametrize(
    ("space", "field", "words"),
    [
        ({"families": ["cosine", "cosin"]}, "families[1]", "unknown family 'cosin'"),
        ({"families": []}, "families", "at least one"),
        ({"families": ["step", "step"]}, "families", "twice"),
        ({"base_lr": {"low": 0.0, "high": 1.0}}, "base_lr.low", "greater than 0"),
        ({"base_lr": -0.1}, "base_lr", "greater than 0"),
        ({"base_lr": {"low": 0.5, "high": 0.1}}, "base_lr", "low 0.5 is above high 0.1"),
        (
            {"params": {"cosine": {"eta_min": {"low": 0.2, "high": 0.1}}}},
            "params.cosine.eta_min",
            "above",
        ),
        ({"params": {"cosine": {"eta_mn": 0.1}}}, "params.cosine.eta_mn", "unknown parameter"),
        ({"params": {"cosin": {"eta_min": 0.1}}}, "params.cosin", "unknown family"),
        (
            {"families": ["step"], "params": {"cosine": {"eta_min": 0.1}}},
            "params.cosine",
            "not searched",
        ),
        (
            {"params": {"step": {"gamma": {"low": 0.1, "high": 1.5}}}},
            "params.step.gamma.high",
            "less than or equal to 1",
        ),
        (
            {"params": {"step": {"gamma": {"low": 0.0, "high": 0.5, "log": True}}}},
            "params.step.gamma.low",
            "greater than 0",
        ),
        (
            {"params": {"cosine": {"eta_min": {"low": 0.0, "high": 0.1, "log": True}}}},
            "params.cosine.eta_min",
            "log range needs low > 0",
        ),
        (
            {"params": {"plateau": {"patience": {"low": 0.5, "high": 2}}}},
            "params.plateau.patience.low",
            "integer",
        ),
        (
            {"params": {"cyclic": {"mode": {"low": 1, "high": 2}}}},
            "params.cyclic.mode",
            "not a range",
        ),
        (
            {"params": {"cyclic": {"mode": ["triangular", "saw"]}}},
            "params.cyclic.mode[1]",
            "invalid",
        ),
        ({"params": {"step": {"gamma": []}}}, "params.step.gamma", "empty"),
        ({"params": {"step": {"gamma": {"low": 0.1}}}}, "params.step.gamma", "needs 'low' and"),
        (
            {"params": {"step": {"gamma": {"low": 0.1, "high": 0.2, "log": "yes"}}}},
            "params.step.gamma.log",
            "not true or false",
        ),
        ({"params": {"cosine": {"warmup": True}}}, "params.cosine.warmup", "invalid"),
        ({"params": {"multistep": {"count": 0}}}, "params.multistep.count", "greater than or"),
        ({"colour": "blue"}, "colour", "Extra inputs"),
    ],
)
def test_bad_override_names_its_field(space: dict, field: str, words: str) -> None:
    with pytest.raises(ValidationError) as caught:
        SearchSpace.model_validate(space)
    message = str(caught.value)
    assert field in message and words in message, message


def test_describe_lists_every_family_with_json_ranges() -> None:
    described = describe()
    assert set(described) == set(FAMILIES)
    assert described["cosine"]["eta_min"] == {"low": 0.0, "high": 0.1, "log": False}
    assert described["one_cycle"]["anneal"] == ["cos", "linear"]
    assert described["wsd"] == {
        "warmup": {"low": 0.0, "high": 0.1, "log": False},
        "decay": {"low": 0.1, "high": 0.5, "log": False},
        "shape": ["linear", "cosine", "1-sqrt"],
        "end_factor": 0.0,
    }
    assert described["cosine_restarts"]["m_mul"] == {"low": 0.3, "high": 1.0, "log": False}
    assert SearchSpace.model_validate_json(SearchSpace().model_dump_json()) == SearchSpace()


def draws(space: SearchSpace, seed: int, n: int) -> list[SampledSchedule]:
    """``n`` schedules drawn by Optuna's RandomSampler (in memory: no objective needed)."""
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=seed))
    return [suggest(study.ask(), space) for _ in range(n)]


def sampled_again(space: SearchSpace, sampled: SampledSchedule) -> SampledSchedule:
    """What a trial enqueued with ``as_params(space, sampled)`` samples."""
    params = as_params(space, sampled)
    assert params is not None
    return suggest(optuna.trial.FixedTrial(params), space)


@pytest.mark.parametrize("seed", range(4))
def test_sampled_warmups_are_none_or_at_least_one_percent(seed: int) -> None:
    """The warm-up rule: 0 < warm-up < 1% is never drawn; below 1% a draw means none, which
    ``Warmup(0.0, 0.1)`` makes about one draw in ten. Every draw maps back to its params."""
    space = SearchSpace()
    sampled = draws(space, seed, 600)
    warmups = [
        s.schedule.warmup for s in sampled if s.schedule.family not in ("cyclic", "one_cycle")
    ]
    assert all(w == 0.0 or MIN_WARMUP <= w <= 0.1 for w in warmups)
    assert 0.03 < warmups.count(0.0) / len(warmups) < 0.2
    assert all(sampled_again(space, one) == one for one in sampled)  # as_params inverts suggest


def test_warmup_overrides_keep_the_rule_and_explicit_values() -> None:
    space = SearchSpace(
        families=["cosine", "one_cycle", "wsd", "step"],
        params={
            "cosine": {"warmup": {"low": 0.0, "high": 0.02}},
            "one_cycle": {"warmup": {"low": 0.0, "high": 0.05}},  # a range where none was
            "wsd": {"warmup": {"low": 0.02, "high": 0.05}},
            "step": {"warmup": 0.005},  # a value the user fixes is theirs, as in a config
        },
    )
    assert space.domains("cosine")["warmup"] == Warmup(0.0, 0.02)
    assert space.domains("one_cycle")["warmup"] == Warmup(0.0, 0.05)
    assert space.domains("step")["warmup"] == Fixed(0.005)
    sampled = draws(space, 7, 400)
    for one in sampled:
        warmup = one.schedule.warmup
        if one.schedule.family == "step":
            assert warmup == 0.005
        else:
            assert warmup == 0.0 or warmup >= MIN_WARMUP, one
        assert sampled_again(space, one) == one
    cosine = [one.schedule.warmup for one in sampled if one.schedule.family == "cosine"]
    assert 0.0 in cosine and any(w >= MIN_WARMUP for w in cosine)


@pytest.mark.parametrize(
    ("warmup", "expected"), [(0.0, 0.0), (0.004, 0.0), (0.007, 0.01), (0.01, 0.01), (0.05, 0.05)]
)
def test_explicit_short_warmups_stay_valid_and_map_to_the_nearest_allowed(
    warmup: float, expected: float
) -> None:
    """A config may hold any warm-up (stored studies do); the space brings one it cannot draw
    to the nearest it can: none, or 1%."""
    again = sampled_again(SearchSpace(), SampledSchedule(Cosine(warmup=warmup), 0.1))
    assert again.schedule == Cosine(warmup=expected)

"""The conditional search space: samples stay in their family and their ranges, a config maps
back to the parameters that sample it, bad overrides name their field."""

from __future__ import annotations

import optuna
import pytest
from pydantic import ValidationError

from schedsearch.core.curves import lr_curve
from schedsearch.core.schedules import FAMILIES, Constant, Cosine, OneCycle
from schedsearch.core.space import (
    Choice,
    Fixed,
    Float,
    Int,
    SampledSchedule,
    SearchSpace,
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


def test_default_space_over_200_trials(tmp_path) -> None:
    space = SearchSpace()
    study = run_study(space, 200, tmp_path)
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
    assert SearchSpace.model_validate_json(SearchSpace().model_dump_json()) == SearchSpace()

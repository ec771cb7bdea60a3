"""Search-quality options: folklore warm start, the decay-aware pruner, trial parameters from a
config (real Optuna studies, real SQLite and PostgreSQL)."""

from __future__ import annotations

import optuna
import pytest

from schedsearch.folklore import RECIPES, USUAL_LR, folklore
from schedsearch.pruners import Curve, DecayAwarePruner, replay
from schedsearch.runner import run_study, submit
from schedsearch.schedules import Constant, Cosine, MultiStep, OneCycle, Plateau, ScheduleBase
from schedsearch.space import SampledSchedule, SearchSpace, as_params, suggest
from schedsearch.spec import StudySpec
from schedsearch.store import Store
from schedsearch.strategy import make_pruner

States = optuna.trial.TrialState


@pytest.mark.parametrize("name", list(RECIPES))
def test_a_recipe_as_params_samples_back_to_itself(name: str) -> None:
    """``as_params`` is the inverse of ``suggest``: the trial rebuilds the exact schedule."""
    space = SearchSpace()
    sampled = SampledSchedule(RECIPES[name], 0.1)
    params = as_params(space, sampled)
    assert params is not None and params["family"] == RECIPES[name].family
    again = suggest(optuna.trial.FixedTrial(params), space)
    assert again == sampled


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


def test_folklore_grid_has_every_recipe_at_every_lr() -> None:
    grid = folklore("sgd", (0.03, 0.3))
    assert len(grid) == 2 * len(RECIPES)
    assert {(n, s.base_lr) for n, s in grid} == {(n, lr) for n in RECIPES for lr in (0.03, 0.3)}
    assert [s.base_lr for _, s in folklore("adamw")] == [USUAL_LR["adamw"]] * len(RECIPES)


def test_warm_start_runs_the_folklore_first(db_url: str) -> None:
    spec = StudySpec(
        name="warm", epochs=1, n_trials=8, warm_start=True, pruner="none", sampler="random"
    )
    study = run_study(spec, db_url, progress=False)
    trials = Store(db_url).optuna_study(study).trials
    assert len(trials) == 8 and all(t.state == States.COMPLETE for t in trials)
    first = [(t.user_attrs["schedule"], t.user_attrs["base_lr"]) for t in trials[:6]]
    expected = [(r.model_dump(mode="json"), USUAL_LR["sgd"]) for r in RECIPES.values()]
    assert first == expected  # in order, exactly the recipes, at SGD's usual LR
    assert all(t.user_attrs["schedule"]["family"] for t in trials[6:])  # then the sampler


def test_warm_start_only_queues_what_the_space_can_express(tmp_path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'w.db'}")
    spec = StudySpec(
        name="narrow",
        families=["cosine", "step"],
        space={"cosine": {"warmup": 0.0}},
        warm_start=True,
    )
    study = submit(store, spec)
    waiting = store.optuna_study(study).get_trials(states=(States.WAITING,))
    # cosine and warm-up+cosine are one config once warm-up is fixed at 0; no "step" recipe
    # (the folklore step is x0.1 at 50% and 75%: a multistep)
    assert [t.system_attrs["fixed_params"] for t in waiting] == [
        {"family": "cosine", "base_lr": 0.1, "cosine.eta_min": 0.0}
    ]
    assert submit(store, spec.model_copy(update={"name": "cold", "warm_start": False}))
    assert store.optuna_study(store.get("cold")).trials == []


def _pruner(ratio: float = 0.5, epochs: int = 8) -> DecayAwarePruner:
    return DecayAwarePruner(optuna.pruners.NopPruner(), epochs, ratio)


def _held_back(schedule: ScheduleBase, epochs: int = 8) -> list[bool]:
    trial = optuna.trial.create_trial(
        state=States.RUNNING, user_attrs={"schedule": schedule.model_dump(mode="json")}
    )
    return [_pruner(epochs=epochs).peak_ahead_of_decay(trial, e) for e in range(1, epochs + 1)]


def test_decay_aware_holds_back_only_while_a_decay_lies_ahead() -> None:
    step = MultiStep(milestones=(0.5, 0.75), gamma=0.1)
    assert _held_back(step) == [True] * 4 + [False] * 4  # judged once epoch 5 ran at 0.1x
    assert _held_back(Constant()) == [False] * 8  # nothing ahead: judged as usual
    assert _held_back(Plateau()) == [False] * 8  # its future is unknown: judged as usual
    cosine = _held_back(Cosine())  # judged once its LR is below half the peak (past 50%)
    assert cosine[:3] == [True] * 3 and cosine[4:] == [False] * 4
    assert _held_back(OneCycle())[:2] == [True, True]  # rising to its peak: held back
    # a trial without a recorded schedule is judged as usual
    bare = optuna.trial.create_trial(state=States.RUNNING)
    assert not _pruner().peak_ahead_of_decay(bare, 1)


def _replay(
    pruner: optuna.pruners.BasePruner, curves: list[tuple[ScheduleBase, list[float]]]
) -> set[int]:
    """The indices of the complete 8-epoch curves the pruner kills, run in order."""
    recorded = [
        Curve(schedule.model_dump(mode="json"), dict(enumerate(values, start=1)), values[-1])
        for schedule, values in curves
    ]
    return replay(pruner, recorded, epochs=8)[0]


def test_decay_aware_spares_the_late_decaying_winner_that_hyperband_kills() -> None:
    """Short-horizon bias: x0.1 at 50%/75% trains at its peak LR until epoch 4, so it trails
    early-decaying schedules mid-run, and finishes best."""
    early = Cosine()
    late = MultiStep(milestones=(0.5, 0.75), gamma=0.1)
    curves = [(early, [0.5, 0.7, 0.8, 0.85, 0.87, 0.88, 0.88, 0.89]) for _ in range(6)]
    curves.append((late, [0.3, 0.45, 0.55, 0.6, 0.9, 0.92, 0.95, 0.96]))
    spec = StudySpec(epochs=8)
    hyperband = make_pruner(spec.model_copy(update={"pruner": "hyperband"}))
    aware = make_pruner(spec.model_copy(update={"pruner": "decay_aware"}))
    assert isinstance(aware, DecayAwarePruner)
    recorded = [Curve(s.model_dump(mode="json"), dict(enumerate(v, 1)), v[-1]) for s, v in curves]
    assert replay(optuna.pruners.NopPruner(), recorded, epochs=8) == (set(), 7 * 8)
    assert 6 in _replay(hyperband, curves)  # the eventual winner is killed
    assert 6 not in _replay(aware, curves)  # spared until its decay is under way
    # and once the decay is under way, a trial that is still behind is pruned
    curves[6] = (late, [0.3, 0.45, 0.55, 0.6, 0.62, 0.63, 0.64, 0.65])
    assert 6 in _replay(aware, curves)


def test_bad_options_are_refused_with_their_field() -> None:
    with pytest.raises(ValueError, match=r"rerun_top_k \(5\) is more than n_trials \(3\)"):
        StudySpec(n_trials=3, rerun_top_k=5)
    with pytest.raises(ValueError, match="rerun_seeds"):
        StudySpec(rerun_top_k=2, rerun_seeds=1)
    with pytest.raises(ValueError, match="pruner"):
        StudySpec(pruner="decay")

"""Whole studies on this machine (``run_study``) and the objective they optimise: real training
on digits, a real SQLite file or PostgreSQL; what the storage holds afterwards."""

from __future__ import annotations

import json

import optuna
import pytest
import torch

from schedsearch.core.folklore import RECIPES, USUAL_LR
from schedsearch.core.schedules import Constant
from schedsearch.core.spec import StudySpec
from schedsearch.engine.data import load_dataset
from schedsearch.engine.train import TrainConfig, train
from schedsearch.store import Store
from schedsearch.worker.runner import run_study

pytestmark = pytest.mark.slow
optuna.logging.set_verbosity(optuna.logging.WARNING)
States = optuna.trial.TrialState


@pytest.fixture(scope="module")
def digits():
    torch.set_num_threads(1)
    return load_dataset("digits", "cpu", seed=0)


def _study(tmp_path, spec: StudySpec) -> optuna.Study:
    url = f"sqlite:///{tmp_path / 'study.db'}"
    run_study(spec, url, progress=False)
    return optuna.load_study(study_name=spec.name, storage=Store(url).optuna)


def test_bad_lr_range_is_pruned_with_its_curves_stored(tmp_path) -> None:
    spec = StudySpec(
        name="bad-lr",
        epochs=6,
        n_trials=16,
        pruner="median",
        families=["constant"],
        space={"base_lr": {"low": 1e-6, "high": 1.0, "log": True}},
        seed=3,
    )
    study = _study(tmp_path, spec)  # reloaded from the file: what the storage holds
    pruned = [t for t in study.trials if t.state == optuna.trial.TrialState.PRUNED]
    complete = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    assert len(study.trials) == 16 and pruned and complete
    best = max(t.value for t in complete)
    for trial in pruned:
        assert trial.intermediate_values, "a pruned trial keeps its learning curve"
        # the median rule may also cut at the last epoch (Optuna asks it after every report)
        assert len(trial.intermediate_values) <= spec.epochs
        assert max(trial.intermediate_values.values()) < best
    lrs_pruned = sorted(t.user_attrs["base_lr"] for t in pruned)
    assert lrs_pruned[0] < 1e-3  # the hopeless low end is what gets cut


def test_diverging_trials_are_recorded_not_crashed(tmp_path) -> None:
    spec = StudySpec(
        name="diverge",
        epochs=3,
        n_trials=3,
        pruner="none",
        families=["constant"],
        space={"base_lr": {"low": 50.0, "high": 100.0, "log": True}, "constant": {"warmup": 0.0}},
        augment=False,
    )
    study = _study(tmp_path, spec)
    assert len(study.trials) == 3
    for trial in study.trials:
        assert trial.state == optuna.trial.TrialState.PRUNED
        assert "training loss became" in trial.user_attrs["diverged"]
        assert list(trial.intermediate_values.values())[-1] == 0.0
        assert json.loads(trial.user_attrs["metrics"])["train_loss"]


def test_study_beats_a_constant_lr_run_with_the_same_budget(tmp_path) -> None:
    spec = StudySpec(name="versus-constant", epochs=5, n_trials=20, seed=0)
    study = _study(tmp_path, spec)
    data = load_dataset("digits", "cpu", seed=spec.seed)
    constant = train(data, TrainConfig.of(spec), Constant(), 0.1)  # SGD folklore: LR 0.1, flat
    assert study.best_value >= constant.final_accuracy
    assert any(t.state == optuna.trial.TrialState.PRUNED for t in study.trials)


def test_warm_start_runs_the_folklore_first(db_url: str) -> None:
    spec = StudySpec(
        name="warm", epochs=1, n_trials=8, warm_start=True, pruner="none", sampler="random"
    )
    study = run_study(spec, db_url, progress=False)
    trials = Store(db_url).trials.optuna_study(study).trials
    assert len(trials) == 8 and all(t.state == States.COMPLETE for t in trials)
    first = [(t.user_attrs["schedule"], t.user_attrs["base_lr"]) for t in trials[:6]]
    expected = [(r.model_dump(mode="json"), USUAL_LR["sgd"]) for r in RECIPES.values()]
    assert first == expected  # in order, exactly the recipes, at SGD's usual LR
    assert all(t.user_attrs["schedule"]["family"] for t in trials[6:])  # then the sampler

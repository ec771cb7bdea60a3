"""The trainer and the objective on real data (digits) and a real SQLite-backed study."""

from __future__ import annotations

import json

import optuna
import pytest
import torch

from schedsearch.data import load_dataset
from schedsearch.objective import Objective
from schedsearch.runner import run_study
from schedsearch.schedules import Constant, Cosine
from schedsearch.spec import StudySpec
from schedsearch.store import optuna_storage
from schedsearch.train import TrainConfig, resolve_device, train

optuna.logging.set_verbosity(optuna.logging.WARNING)


@pytest.fixture(scope="module")
def digits():
    torch.set_num_threads(1)
    return load_dataset("digits", "cpu", seed=0)


def test_training_learns_and_is_deterministic_on_cpu(digits) -> None:
    config = TrainConfig(epochs=5, seed=7)
    first = train(digits, config, Cosine(), 0.2)
    second = train(digits, config, Cosine(), 0.2)
    assert first.val_accuracy == second.val_accuracy
    assert first.train_loss == second.train_loss
    assert first.final_accuracy > 0.8  # 10 classes: chance is 0.1; measured 0.92
    assert first.train_loss[-1] < first.train_loss[0]
    assert first.steps == 5 * (len(digits.train_x) // 64) and first.diverged is None
    other_seed = train(digits, TrainConfig(epochs=5, seed=8), Cosine(), 0.2)
    assert other_seed.train_loss != first.train_loss


def test_adamw_and_every_model_train(digits) -> None:
    for model in ("cnn-small", "cnn-medium", "resnet8"):
        result = train(
            digits, TrainConfig(model=model, epochs=2, optimizer="adamw"), Cosine(), 3e-3
        )
        assert result.final_accuracy > 0.5, model  # chance is 0.1; resnet8 measured 0.83


def test_exploded_but_finite_loss_counts_as_divergence(digits) -> None:
    result = train(digits, TrainConfig(epochs=3, augment=False), Constant(), 20.0)
    assert result.diverged and result.val_accuracy == [], result.train_loss  # chance-level net


def test_diverging_lr_ends_with_a_reason(digits) -> None:
    seen = []
    result = train(
        digits,
        TrainConfig(epochs=4, augment=False),
        Constant(),
        1e6,
        lambda epoch, acc: seen.append(epoch),
    )
    assert result.diverged and "training loss became" in result.diverged
    assert "epoch 1" in result.diverged and "1e+06" in result.diverged
    assert seen == [] and result.val_accuracy == []  # stopped before reporting a broken model


def test_on_epoch_can_stop_the_run(digits) -> None:
    class Stop(Exception):
        pass

    def stop_after_two(epoch: int, accuracy: float) -> None:
        if epoch == 1:
            raise Stop

    with pytest.raises(Stop):
        train(digits, TrainConfig(epochs=10), Cosine(), 0.1, stop_after_two)


def test_cuda_is_refused_where_there_is_none() -> None:
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    with pytest.raises(ValueError, match="CUDA is not available"):
        resolve_device("cuda:0")
    assert resolve_device("auto").type == "cpu"


def _study(tmp_path, spec: StudySpec) -> optuna.Study:
    url = f"sqlite:///{tmp_path / 'study.db'}"
    run_study(spec, url, progress=False)
    return optuna.load_study(study_name=spec.name, storage=optuna_storage(url))


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
        assert len(trial.intermediate_values) < spec.epochs
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
    constant = train(data, spec.train_config(), Constant(), 0.1)  # SGD folklore: LR 0.1, flat
    assert study.best_value >= constant.final_accuracy
    assert any(t.state == optuna.trial.TrialState.PRUNED for t in study.trials)


def test_objective_stores_a_rebuildable_schedule(tmp_path, digits) -> None:
    spec = StudySpec(epochs=1, n_trials=1, families=["one_cycle"])
    study = optuna.create_study(direction="maximize")
    study.optimize(Objective(spec, digits), n_trials=1)
    trial = study.trials[0]
    assert trial.user_attrs["schedule"]["family"] == "one_cycle"
    assert trial.user_attrs["base_lr"] == trial.params["base_lr"]
    assert trial.intermediate_values == {1: trial.value}

"""The objective one trial runs: sample, train, report, record (real training on digits)."""

from __future__ import annotations

import optuna
import pytest
import torch

from schedsearch.core.spec import StudySpec
from schedsearch.engine.data import TensorData, load_dataset
from schedsearch.worker.objective import Objective

optuna.logging.set_verbosity(optuna.logging.WARNING)


@pytest.fixture(scope="module")
def digits() -> TensorData:
    torch.set_num_threads(1)
    return load_dataset("digits", "cpu", seed=0)


def test_objective_stores_a_rebuildable_schedule(digits: TensorData) -> None:
    spec = StudySpec(epochs=1, n_trials=1, families=["one_cycle"])
    study = optuna.create_study(direction="maximize")
    study.optimize(Objective(spec, digits), n_trials=1)
    trial = study.trials[0]
    assert trial.user_attrs["schedule"]["family"] == "one_cycle"
    assert trial.user_attrs["base_lr"] == trial.params["base_lr"]
    assert trial.intermediate_values == {1: trial.value}

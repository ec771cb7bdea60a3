"""The plots pick the best trials in the study's direction and name its metric: drawn on real
Matplotlib axes from trials told through Optuna on a real store (SQLite), nothing trains."""

from __future__ import annotations

import optuna
import pytest
from matplotlib.figure import Figure

from schedsearch.core.records import TrialRecord
from schedsearch.core.schedules import Constant, Cosine, Step
from schedsearch.core.spec import StudySpec
from schedsearch.reports.plots import KINDS, history, learning_curves, lr_curves, render
from schedsearch.search import lifecycle
from schedsearch.store import Store

LOSS = StudySpec(name="loss", trainer="external", metric="val_loss", direction="minimize")


@pytest.fixture
def trials(tmp_path) -> list[optuna.trial.FrozenTrial]:
    """Four complete trials of a minimised loss (the second is best), two epochs each."""
    store = Store(f"sqlite:///{tmp_path / 'studies.db'}")
    study = lifecycle.submit(store, LOSS)
    handle = store.trials.optuna_study(study)
    for schedule, value in ((Step(), 0.5), (Cosine(), 0.2), (Constant(), 0.7), (Cosine(), 0.3)):
        trial = handle.ask()
        TrialRecord(schedule=schedule.model_dump(mode="json"), base_lr=0.1).write(trial)
        trial.report(value + 0.1, 1)
        trial.report(value, 2)
        handle.tell(trial, value)
    found = store.trials.all(study)
    store.close()
    return found


def _axes():
    return Figure().add_subplot()


def test_history_tracks_the_lowest_value_of_a_minimised_metric(trials) -> None:
    ax = _axes()
    history(trials, LOSS, ax)
    [best_so_far] = ax.get_lines()
    assert list(best_so_far.get_ydata()) == [0.5, 0.2, 0.2, 0.2]
    assert ax.get_ylabel() == "val_loss"


def test_the_top_trials_are_the_lowest_first(trials) -> None:
    ax = _axes()
    lr_curves(trials, LOSS, ax)
    labels = [line.get_label() for line in ax.get_lines()]
    assert [label.split()[0] for label in labels] == ["#1", "#3", "#0", "#2"]
    ax = _axes()
    learning_curves(trials, LOSS, ax)
    assert "best #1" in [line.get_label() for line in ax.get_lines()]
    assert ax.get_ylabel() == "val_loss"


def test_every_plot_of_a_minimize_study_renders(trials) -> None:
    for kind in KINDS:
        assert render(kind, trials, LOSS).startswith(b"\x89PNG")

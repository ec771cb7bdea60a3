"""A trial read in two statements is Optuna's ``get_trial``, field for field, and a report is
recorded once, only while its trial runs. Real SQLite and PostgreSQL."""

from __future__ import annotations

import math

import optuna
import pytest
import sqlalchemy as sa
from optuna.trial import TrialState

from schedsearch.core.spec import StudySpec
from schedsearch.store import Store


def comparable(trial: optuna.trial.FrozenTrial) -> dict:
    """The trial's fields (NaN as its repr: NaN != NaN)."""
    fields = dict(vars(trial))
    fields["intermediate_values"] = {k: repr(v) for k, v in trial.intermediate_values.items()}
    return fields


def test_a_trial_read_whole_is_optunas(db_url: str) -> None:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    store = Store(db_url)
    study = store.studies.create(StudySpec(name="one-trial", n_trials=10, epochs=4))
    handle = store.trials.optuna_study(study)
    full = handle.ask()
    full.suggest_float("cosine.base_lr", 1e-3, 1.0, log=True)
    full.suggest_categorical("family", ["cosine", "step", "linear"])
    full.suggest_int("multistep.count", 1, 3)
    full.suggest_float("cosine.eta_min", 0.0, 0.1)
    full.set_user_attr("schedule", {"family": "cosine", "eta_min": 0.01})
    store.optuna.set_trial_system_attr(full._trial_id, "prior", {"family": "cosine"})
    for step, value in ((1, 0.5), (2, math.inf), (3, -math.inf), (4, math.nan)):
        full.report(value, step)
    handle.tell(full, 0.9)
    cut = handle.ask()
    cut.report(0.1, 1)
    handle.tell(cut, state=TrialState.PRUNED)
    bare = handle.ask()  # running, nothing but its row
    broken = handle.ask()
    handle.tell(broken, state=TrialState.FAIL)
    top = handle.ask()
    handle.tell(top, math.inf)
    handle.enqueue_trial({"family": "step"})

    ids = [t._trial_id for t in store.optuna.get_all_trials(study.optuna_study_id)]
    assert len(ids) == 6
    for trial_id in ids:
        assert comparable(store.one_trial.read(trial_id)) == comparable(
            store.optuna.get_trial(trial_id)
        )
    with pytest.raises(KeyError):
        store.one_trial.read(max(ids) + 100)
    assert store.one_trial.read(bare._trial_id).state == TrialState.RUNNING
    store.close()


def test_a_report_is_recorded_once_and_only_while_running(db_url: str) -> None:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    store = Store(db_url)
    study = store.studies.create(StudySpec(name="one-report", n_trials=10, epochs=4))
    handle = store.trials.optuna_study(study)
    trial = handle.ask()

    assert store.one_trial.report(trial._trial_id, 1, 0.25) is True
    assert store.one_trial.report(trial._trial_id, 1, 0.75) is False  # the step is taken
    assert store.one_trial.report(trial._trial_id, 2, 0.5) is True
    assert store.optuna.get_trial(trial._trial_id).intermediate_values == {1: 0.25, 2: 0.5}
    with pytest.raises(ValueError, match="finite"):
        store.one_trial.report(trial._trial_id, 3, math.nan)

    handle.tell(trial, state=TrialState.FAIL)  # e.g. a reaper took its holder for dead
    assert store.one_trial.report(trial._trial_id, 3, 0.6) is False
    assert store.one_trial.report(trial._trial_id + 100, 1, 0.6) is False  # no such trial
    with store.db.reads.connect() as connection:
        rows = connection.scalar(sa.text("SELECT COUNT(*) FROM trial_intermediate_values"))
    assert rows == 2
    store.close()

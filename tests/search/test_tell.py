"""The worker's tell (search.tell) ends a trial as ``Study.tell`` does, from the copy its holder
has, and never over what another process wrote: real SQLite and PostgreSQL."""

from __future__ import annotations

import math

import optuna
import pytest
from optuna.trial import TrialState

from schedsearch.core.records import TrialRecord
from schedsearch.core.spec import StudySpec
from schedsearch.search import accounting
from schedsearch.search.tell import held, tell
from schedsearch.store import Store


def _trial(store: Store, name: str) -> tuple[optuna.Study, optuna.Trial]:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = store.studies.create(StudySpec(name=name, n_trials=9, epochs=3))
    handle = store.trials.optuna_study(study)
    trial = handle.ask()
    trial.suggest_float("lr", 1e-3, 1.0, log=True)
    trial.suggest_categorical("family", ["cosine", "step"])
    TrialRecord(schedule={"family": "cosine"}, base_lr=0.1).write(trial)
    trial.report(0.5, 1)
    trial.report(0.625, 2)
    return handle, trial


def _content(trial: optuna.trial.FrozenTrial) -> tuple:
    return (
        trial.number,
        trial.state,
        trial.values,
        trial.params,
        trial.distributions,
        trial.user_attrs,
        trial.system_attrs,
        trial.intermediate_values,
    )


def test_the_held_copy_is_the_stored_trial(db_url: str) -> None:
    """What an Optuna that stopped keeping ``Trial``'s copy would break first."""
    store = Store(db_url)
    _, trial = _trial(store, "held")
    assert _content(held(trial)) == _content(store.optuna.get_trial(trial._trial_id))


@pytest.mark.filterwarnings("ignore:The value nan is not acceptable")  # stock Optuna's
@pytest.mark.parametrize(
    ("value", "state", "stored_state", "stored_values"),
    [
        (0.75, None, TrialState.COMPLETE, [0.75]),
        (0.75, TrialState.COMPLETE, TrialState.COMPLETE, [0.75]),
        (None, TrialState.PRUNED, TrialState.PRUNED, [0.625]),  # the last report, as Optuna
        (None, TrialState.FAIL, TrialState.FAIL, None),
        (math.nan, None, TrialState.FAIL, None),  # as optimize treats a NaN return
    ],
)
def test_tell_stores_and_returns_what_study_tell_would(
    db_url: str,
    value: float | None,
    state: TrialState | None,
    stored_state: TrialState,
    stored_values: list[float] | None,
) -> None:
    store = Store(db_url)
    handle, trial = _trial(store, "told")
    ended = tell(handle, held(trial), value, state)
    stored = store.optuna.get_trial(trial._trial_id)
    assert stored.state == stored_state and stored.values == stored_values
    assert _content(ended) == _content(stored)
    assert ended.datetime_complete is not None and stored.datetime_complete is not None
    assert abs((ended.datetime_complete - stored.datetime_complete).total_seconds()) < 5

    reference = optuna.create_study(direction="maximize")  # stock Optuna, in memory
    twin = reference.ask()
    for step, reported in held(trial).intermediate_values.items():
        twin.report(reported, step)
    reference.tell(twin, value, state)
    assert (reference.trials[0].state, reference.trials[0].values) == (stored_state, stored_values)


def test_a_copy_never_ends_a_trial_another_process_failed(db_url: str) -> None:
    """The reaper failed the trial meanwhile: the holder's copy still says RUNNING, and the
    database refuses the tell; the trial stays as the reaper left it."""
    store = Store(db_url)
    handle, trial = _trial(store, "reaped")
    reaper = Store(db_url)
    _, failed_here = accounting.fail_running(reaper, trial._trial_id)
    assert failed_here
    with pytest.raises(optuna.exceptions.UpdateFinishedTrialError):
        tell(handle, held(trial), 0.9)
    assert store.optuna.get_trial(trial._trial_id).state == TrialState.FAIL


def test_a_complete_trial_needs_a_number(db_url: str) -> None:
    store = Store(db_url)
    handle, trial = _trial(store, "nan")
    with pytest.raises(ValueError, match="needs a number"):
        tell(handle, held(trial), math.nan, TrialState.COMPLETE)
    assert store.optuna.get_trial(trial._trial_id).state == TrialState.RUNNING

"""The study handle's storage (store.optuna_cache) lists WAITING trials with one statement and
never a stale one: a trial another process enqueued is the next ask's. Real SQLite and
PostgreSQL."""

from __future__ import annotations

import optuna
import sqlalchemy as sa
from optuna.trial import TrialState

from schedsearch.core.spec import StudySpec
from schedsearch.search.tell import held, tell
from schedsearch.store import Store
from schedsearch.store.optuna_cache import StudyCache


def test_an_ask_pops_what_another_process_enqueued(db_url: str) -> None:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    ours, theirs = Store(db_url), Store(db_url)
    study = ours.studies.create(StudySpec(name="queue", n_trials=9, epochs=2))
    mine, other = ours.trials.optuna_study(study), theirs.trials.optuna_study(study)
    assert isinstance(mine._storage, StudyCache)
    first = mine.ask()  # our cache now holds a running trial
    assert first.suggest_float("x", 0, 1) is not None

    other.enqueue_trial({"x": 0.25})
    other.enqueue_trial({"x": 0.75})
    plain = optuna.storages.RDBStorage(db_url, skip_table_creation=True)
    waiting = plain.get_all_trials(mine._study_id, states=(TrialState.WAITING,))
    statements: list[str] = []
    sa.event.listen(ours.optuna.engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    listed = mine._storage.get_all_trials(mine._study_id, states=(TrialState.WAITING,))
    assert [(t.number, t.params, t.state) for t in listed] == [
        (t.number, t.params, t.state) for t in waiting
    ]
    assert not any("trial_params" in s for s in statements[:1])  # ids first, then only those

    popped = mine.ask()
    assert popped.number == waiting[0].number and popped.suggest_float("x", 0, 1) == 0.25
    assert mine.ask().suggest_float("x", 0, 1) == 0.75
    assert mine._storage.get_all_trials(mine._study_id, states=(TrialState.WAITING,)) == []


def test_a_created_trial_is_read_once_from_memory_then_fresh(db_url: str) -> None:
    """``ask`` builds its Trial from the copy creating the trial returned (no statement); any
    later read goes to the database and sees what others wrote (a reaper's FAIL). A trial
    this handle enqueued is read when popped: RUNNING with its queued params, not the template."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    store = Store(db_url)
    study = store.studies.create(StudySpec(name="created", n_trials=9, epochs=2))
    handle = store.trials.optuna_study(study)
    statements: list[str] = []
    engine = store.optuna.engine
    sa.event.listen(engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    trial = handle.ask()
    assert not any("FROM trial_params" in s for s in statements)  # no read-back of the trial
    assert trial.number == 0 and trial.params == {}

    other = optuna.storages.RDBStorage(db_url, skip_table_creation=True)
    other.set_trial_state_values(trial._trial_id, TrialState.FAIL)  # a reaper, elsewhere
    assert handle._storage.get_trial(trial._trial_id).state == TrialState.FAIL

    handle.enqueue_trial({"x": 0.5})
    popped = handle.ask()
    assert popped.number == 1
    assert held(popped).state == TrialState.RUNNING  # read when popped, not the template
    assert popped.suggest_float("x", 0, 1) == 0.5
    assert tell(handle, held(popped), 0.5).state == TrialState.COMPLETE

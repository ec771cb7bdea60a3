"""The study handle's storage (store.optuna_cache) lists WAITING trials with one statement and
never a stale one: a trial another process enqueued is the next ask's. Real SQLite and
PostgreSQL."""

from __future__ import annotations

import optuna
import sqlalchemy as sa
from optuna.trial import TrialState

from schedsearch.core.spec import StudySpec
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

"""A study's life: the transition table, applied on a real Store (a SQLite file), and the
moves made when a study may be over, is cancelled, fails or is deleted. Trials are added
through Optuna's own API; nothing trains."""

from __future__ import annotations

import itertools

import optuna
import pytest

from schedsearch.core.errors import StudyNotFound
from schedsearch.core.records import TrialRecord
from schedsearch.core.space import suggest
from schedsearch.core.spec import StudySpec
from schedsearch.core.states import StudyStatus
from schedsearch.search import lifecycle
from schedsearch.search.lifecycle import TRANSITIONS
from schedsearch.store import Store, StudyInfo

States = optuna.trial.TrialState
EVERY = list(StudyStatus)


@pytest.fixture(scope="module")
def shared(tmp_path_factory) -> Store:
    store = Store(f"sqlite:///{tmp_path_factory.mktemp('lifecycle') / 'studies.db'}")
    yield store
    store.close()


@pytest.fixture
def store(tmp_path) -> Store:
    store = Store(f"sqlite:///{tmp_path / 'studies.db'}")
    yield store
    store.close()


def test_the_table_is_the_documented_lifecycle() -> None:
    """queued -> running -> completed; cancelled and failed from either active status; nothing
    leaves a terminal status, nothing returns to queued."""
    assert TRANSITIONS == {
        StudyStatus.RUNNING: (StudyStatus.QUEUED,),
        StudyStatus.COMPLETED: (StudyStatus.QUEUED, StudyStatus.RUNNING),
        StudyStatus.CANCELLED: (StudyStatus.QUEUED, StudyStatus.RUNNING),
        StudyStatus.FAILED: (StudyStatus.QUEUED, StudyStatus.RUNNING),
    }


@pytest.mark.parametrize(
    ("start", "to"), list(itertools.product(EVERY, EVERY)), ids=lambda s: s.value
)
def test_move_follows_the_table(shared: Store, start: StudyStatus, to: StudyStatus) -> None:
    try:
        study = shared.studies.get("table")
    except StudyNotFound:
        study = shared.studies.create(StudySpec(name="table"))
    assert shared.studies.transition(study.id, start, only_from=EVERY)
    assert shared.studies.get(study.id).status == start
    allowed = start in TRANSITIONS.get(to, ())
    assert lifecycle.move(shared, study.id, to, error=f"{start}->{to}") is allowed
    after = shared.studies.get(study.id)
    assert after.status == (to if allowed else start)
    if allowed:
        assert after.error == f"{start}->{to}"


def finish(store: Store, study: StudyInfo, *values: float | None) -> None:
    """One trial per value, sampled from the study's space as a worker would: a float
    completes it, None prunes it."""
    optuna_study = store.trials.optuna_study(study)
    for value in values:
        trial = optuna_study.ask()
        sampled = suggest(trial, study.spec.search_space())
        TrialRecord(
            schedule=sampled.schedule.model_dump(mode="json"), base_lr=sampled.base_lr
        ).write(trial)
        if value is None:
            optuna_study.tell(trial, state=States.PRUNED)
        else:
            optuna_study.tell(trial, value)


def test_conclude_completes_only_once_n_trials_are_finished(store: Store) -> None:
    study = lifecycle.submit(
        store, StudySpec(name="plain", n_trials=3, families=["cosine"], rerun_top_k=0)
    )
    finish(store, study, 0.5, 0.7)
    optuna_study = store.trials.optuna_study(study)
    optuna_study.tell(optuna_study.ask(), state=States.FAIL)  # neither counts as finished
    optuna_study.ask()  # still running
    lifecycle.conclude(store, store.studies.get(study.id))
    assert store.studies.get(study.id).status == StudyStatus.QUEUED
    finish(store, study, None)  # a pruned trial is finished too
    lifecycle.conclude(store, store.studies.get(study.id))
    assert store.studies.get(study.id).status == StudyStatus.COMPLETED
    assert store.studies.children(study.id) == []  # no re-run phase without rerun_top_k


def test_conclude_starts_the_rerun_phase_and_the_search_waits_for_it(store: Store) -> None:
    # one family, sampled: no trial is a folklore recipe, so no extra config is re-run
    spec = StudySpec(
        name="trust", n_trials=3, rerun_top_k=2, rerun_seeds=2, seed=4, families=["cosine"]
    )
    study = lifecycle.submit(store, spec)
    finish(store, study, 0.6, 0.9)
    lifecycle.conclude(store, store.studies.get(study.id))
    assert store.studies.children(study.id) == []  # 2 of 3: not over yet
    finish(store, study, 0.8)
    lifecycle.conclude(store, store.studies.get(study.id))
    [phase] = store.studies.children(study.id)
    assert phase.parent_id == study.id and phase.n_trials == 4
    assert phase.status == StudyStatus.QUEUED and phase.spec.pruner == "none"
    assert store.studies.get(study.id).status == StudyStatus.QUEUED  # waits for its phase
    lifecycle.conclude(store, store.studies.get(study.id))  # again: no second phase
    assert len(store.studies.children(study.id)) == 1
    assert store.studies.get(study.id).status == StudyStatus.QUEUED
    queued = store.trials.optuna_study(phase).get_trials(states=(States.WAITING,))
    search = {t.number: t for t in store.trials.optuna_study(study).trials}
    assert [TrialRecord.of(t.user_attrs).rerun_of for t in queued] == [1, 1, 2, 2]
    for trial in queued:  # each re-run repeats its search trial's parameters exactly
        origin = search[TrialRecord.of(trial.user_attrs).rerun_of]
        assert trial.system_attrs["fixed_params"] == origin.params
    # the phase's trials run and finish: the phase completes, and its search with it
    phase_study = store.trials.optuna_study(phase)
    for _ in range(4):
        phase_study.tell(phase_study.ask(), 0.85)
    lifecycle.conclude(store, store.studies.get(phase.id))
    assert store.studies.get(phase.id).status == StudyStatus.COMPLETED
    assert store.studies.get(study.id).status == StudyStatus.COMPLETED


def test_cancel_cancels_the_rerun_phase_too(store: Store) -> None:
    spec = StudySpec(name="stop", n_trials=1, rerun_top_k=1, families=["step"])
    study = lifecycle.submit(store, spec)
    finish(store, study, 0.7)
    lifecycle.conclude(store, store.studies.get(study.id))
    [phase] = store.studies.children(study.id)
    assert store.slots.claim(phase.id) is not None  # the phase is running
    cancelled = lifecycle.cancel(store, store.studies.get(study.id))
    assert cancelled.status == StudyStatus.CANCELLED
    assert store.studies.get(phase.id).status == StudyStatus.CANCELLED
    assert store.slots.claim(phase.id) is None  # no more trials handed out
    assert store.studies.active() == []


def test_cancel_leaves_a_finished_study_as_it_was(store: Store) -> None:
    study = lifecycle.submit(store, StudySpec(name="done", n_trials=1, rerun_top_k=0))
    finish(store, study, 0.7)
    lifecycle.conclude(store, store.studies.get(study.id))
    assert lifecycle.cancel(store, study).status == StudyStatus.COMPLETED


def test_a_study_that_keeps_failing_is_failed(store: Store) -> None:
    study = lifecycle.submit(store, StudySpec(name="broken", n_trials=20))
    for failures in range(1, 6):  # a quarter of 20 trials: the 5th failure ends it
        lifecycle.trial_failed(store, study)
        after = store.studies.get(study.id)
        assert after.failures == failures
        assert after.status == (StudyStatus.FAILED if failures == 5 else StudyStatus.QUEUED)
    other = lifecycle.submit(store, StudySpec(name="cannot-load", n_trials=20))
    lifecycle.fail(store, other, "dataset 'cifar10' is not in /data")
    failed = store.studies.get(other.id)
    assert (
        failed.status == StudyStatus.FAILED and failed.error == "dataset 'cifar10' is not in /data"
    )


def test_delete_removes_the_study_and_its_rerun_phase(store: Store) -> None:
    study = lifecycle.submit(store, StudySpec(name="gone", n_trials=1, rerun_top_k=1))
    finish(store, study, 0.7)
    lifecycle.conclude(store, store.studies.get(study.id))
    [phase] = store.studies.children(study.id)
    keep = lifecycle.submit(store, StudySpec(name="kept", n_trials=1))
    lifecycle.delete(store, store.studies.get(study.id))
    for key in ("gone", phase.name):
        with pytest.raises(StudyNotFound):
            store.studies.get(key)
    assert optuna.get_all_study_names(store.optuna) == [keep.name]

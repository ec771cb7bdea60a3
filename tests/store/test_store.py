"""The store's parts on both real backends: studies, slots, trials, workers, figures."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import optuna
import pytest
import sqlalchemy as sa

from schedsearch.core.errors import StudyExists, StudyNotFound
from schedsearch.core.records import TrialRecord
from schedsearch.core.spec import StudySpec
from schedsearch.core.states import StudyStatus
from schedsearch.store import Store
from schedsearch.store.studies import TABLE


@pytest.fixture
def store(db_url: str) -> Store:
    return Store(db_url, pool_size=4)


def _spec(name: str, **fields: object) -> StudySpec:
    return StudySpec.model_validate({"name": name, "n_trials": 5, "epochs": 2, **fields})


def test_studies_by_id_and_name_newest_first(store: Store) -> None:
    first = store.studies.create(_spec("first"))
    second = store.studies.create(_spec("second"))
    child = store.studies.create(_spec("second.rerun"), parent_id=second.id)
    assert (
        store.studies.get(first.id)
        == store.studies.get("first")
        == store.studies.get(str(first.id))
    )
    stored = _spec("first").stored_form()  # "all families" spelled out
    assert store.studies.get("first").spec.model_dump(mode="json") == stored
    listed, total = store.studies.list()
    assert [s.name for s in listed] == ["second", "first"] and total == 2  # phases hidden
    assert store.studies.children(second.id) == [child]
    with pytest.raises(StudyNotFound):
        store.studies.get("nope")
    with pytest.raises(StudyExists):
        store.studies.create(_spec("first"))


def test_slots_never_exceed_n_trials_under_a_race(store: Store) -> None:
    study = store.studies.create(_spec("race", n_trials=7))
    with ThreadPoolExecutor(8) as pool:
        claims = list(pool.map(lambda _: store.slots.claim(study.id), range(20)))
    won = [c for c in claims if c is not None]
    assert len(won) == 7 and sorted(c.claimed for c in won) == list(range(1, 8))
    assert all(c.status == StudyStatus.RUNNING for c in won)
    store.slots.release(study.id)
    assert store.studies.get(study.id).claimed == 6
    assert store.slots.claim(study.id) is not None and store.slots.claim(study.id) is None


def test_best_value_only_rises_and_failures_count(store: Store) -> None:
    study = store.studies.create(_spec("values"))
    for value in (0.5, 0.9, 0.7):
        store.slots.finished(study.id, 0.0, value)
    assert store.studies.get(study.id).best_value == 0.9
    assert [store.slots.record_failure(study.id) for _ in range(3)] == [1, 2, 3]


def test_a_finished_trial_refunds_keeps_the_best_and_says_whether_the_study_is_spent(
    store: Store,
) -> None:
    """``slots.finished``: one statement for what settling a COMPLETE or PRUNED trial changes."""
    study = store.studies.create(_spec("finish", n_trials=2))
    for _ in range(2):
        assert store.slots.claim(study.id, cost=4.0) is not None
    after = store.slots.finished(study.id, refund=3.0, value=None)  # pruned after 1 epoch of 4
    assert after.spent == 5.0 and after.best_value is None and after.exhausted  # 2 of 2 claimed
    after = store.slots.finished(study.id, refund=0.0, value=0.8)
    assert after.best_value == 0.8 and after.spent == 5.0
    assert store.slots.finished(study.id, refund=0.0, value=0.6).best_value == 0.8
    assert store.studies.get(study.id) == store.slots.finished(study.id, 0.0, None)
    store.studies.delete(study)
    with pytest.raises(StudyNotFound):  # deleted meanwhile: a 404, as any read says
        store.slots.finished(study.id, refund=1.0, value=0.7)


def test_best_value_follows_the_study_direction(store: Store) -> None:
    """A minimised metric keeps its lowest value, and its Optuna study minimises; a spec stored
    before ``direction`` existed keeps maximising."""
    loss = store.studies.create(
        _spec("loss", trainer="external", metric="val_loss", direction="minimize")
    )
    assert store.trials.optuna_study(loss).direction == optuna.study.StudyDirection.MINIMIZE
    old = store.studies.create(_spec("old"))
    before = {
        k: v
        for k, v in old.spec.stored_form().items()
        if k not in ("trainer", "metric", "direction")
    }
    with store.db.engine.begin() as connection:
        connection.execute(sa.update(TABLE).where(TABLE.c.id == old.id).values(spec=before))
    for value in (0.5, 0.2, 0.7):
        store.slots.finished(loss.id, 0.0, value)
        store.slots.finished(old.id, 0.0, value)
    assert store.studies.get(loss.id).best_value == 0.2
    assert store.studies.get(old.id).best_value == 0.7


def test_transition_only_from_the_given_statuses(store: Store) -> None:
    study = store.studies.create(_spec("moves"))
    assert not store.studies.transition(study.id, StudyStatus.COMPLETED, [StudyStatus.RUNNING])
    assert store.studies.transition(
        study.id, StudyStatus.FAILED, [StudyStatus.QUEUED], error="x" * 5000
    )
    failed = store.studies.get(study.id)
    assert failed.status == StudyStatus.FAILED and failed.error == "x" * 2000
    assert store.studies.active() == []


def test_trials_counts_page_and_delete(store: Store) -> None:
    study = store.studies.create(_spec("trials"))
    handle = store.trials.optuna_study(study)
    for value in (0.1, 0.2):
        trial = handle.ask()
        TrialRecord(schedule={"family": "cosine"}, base_lr=0.1).write(trial)
        handle.tell(trial, value)
    handle.tell(handle.ask(), state=optuna.trial.TrialState.PRUNED)
    handle.ask()  # running
    counts = store.trials.counts(study)
    assert counts == {
        "complete": 2,
        "pruned": 1,
        "running": 1,
        "failed": 0,
        "waiting": 0,
        "finished": 3,
    }
    assert not store.trials.all_done(study)
    page, total = store.trials.page(study, limit=2, offset=1)
    assert total == 4 and [t.number for t in page] == [1, 2]
    assert store.trials.get(study, 1).value == 0.2
    assert store.figures.trials_by_state()["COMPLETE"] == 2
    assert store.figures.studies_by_status()["queued"] == 1
    assert not store.studies.deleted(study)
    store.studies.delete(study)
    with pytest.raises(StudyNotFound):
        store.studies.get("trials")
    assert optuna.get_all_study_names(store.optuna) == []
    assert store.studies.deleted(study)


def test_a_study_is_deleted_once_its_optuna_study_is_gone(store: Store) -> None:
    """``delete`` removes the Optuna study before our row: a worker whose tell failed in
    between must take the study for deleted, not crash (a CI failure found it)."""
    study = store.studies.create(_spec("half-gone"))
    optuna.delete_study(study_name=study.name, storage=store.optuna)
    assert store.studies.get(study.id) == study  # our row is still there
    assert store.studies.deleted(study)


def test_workers_are_seen_until_gone(store: Store) -> None:
    store.workers.seen("w1", "host", 1, "cpu")
    store.workers.seen("w1", "host", 1, "cpu", study_id=3, trial_number=4)
    [live] = store.workers.live()
    assert (live.study_id, live.trial_number) == (3, 4)
    assert store.workers.live(study_id=9) == []
    store.workers.gone("w1")
    assert store.workers.live() == []

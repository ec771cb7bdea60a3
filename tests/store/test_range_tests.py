"""A study's LR range test on both real backends: the row is the claim, so one worker runs it;
a claim whose worker stopped beating is taken over; its result and compute land once."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
import sqlalchemy as sa

from schedsearch.core.spec import StudySpec
from schedsearch.search import lifecycle
from schedsearch.store import Store, StudyInfo
from schedsearch.store.database import now
from schedsearch.store.tables import RangeTestRow, WorkerRow
from schedsearch.store.trials import LIVE_WITHIN

RESULT = {"suggestion": 0.05, "lrs": [0.001, 0.01, 0.1], "losses": [2.3, 1.9, 2.8]}


@pytest.fixture
def store(db_url: str) -> Store:
    store = Store(db_url, pool_size=4)
    yield store
    store.close()


@pytest.fixture
def study(store: Store) -> StudyInfo:
    spec = StudySpec(name="calibrated", epochs=5, budget_epochs=100, rerun_top_k=2)
    return store.studies.create(spec)


def _age(store: Store, table, moment_column, key_column, key, seconds: float) -> None:
    """Move a row's timestamp ``seconds`` into the past, directly in SQL."""
    with store.db.engine.begin() as connection:
        connection.execute(
            sa.update(table)
            .where(key_column == key)
            .values({moment_column: now() - timedelta(seconds=seconds)})
        )


def _stale_claim(store: Store, study_id: int) -> None:
    _age(store, RangeTestRow, "started_at", RangeTestRow.study_id, study_id, LIVE_WITHIN + 30)


def _seen(store: Store, worker: str, ago: float = 0.0) -> None:
    store.workers.seen(worker, "host", 1, "cpu")
    if ago:
        _age(store, WorkerRow, "last_seen", WorkerRow.id, worker, ago)


def test_the_first_claim_wins(store: Store, study: StudyInfo) -> None:
    assert store.range_tests.get(study.id) is None
    before = now()
    assert store.range_tests.claim(study.id, "w1")
    claim = store.range_tests.get(study.id)
    assert claim is not None and claim.worker == "w1" and claim.result is None
    assert claim.started_at.tzinfo is not None
    assert before - timedelta(seconds=5) <= claim.started_at <= now() + timedelta(seconds=5)
    assert not store.range_tests.claim(study.id, "w2")  # fresh, though w1 never beat
    # its owner may claim it again: a worker whose finish an outage cut short runs it again
    assert store.range_tests.claim(study.id, "w1")
    assert store.range_tests.get(study.id).worker == "w1"


def test_a_live_workers_claim_is_kept_however_old(store: Store, study: StudyInfo) -> None:
    _seen(store, "w1")
    assert store.range_tests.claim(study.id, "w1")
    _stale_claim(store, study.id)  # a long test, but w1 still beats
    assert not store.range_tests.claim(study.id, "w2")
    assert store.range_tests.get(study.id).worker == "w1"


def test_an_unfinished_claim_holds_no_result_in_sql(store: Store, study: StudyInfo) -> None:
    """The take-over query asks for ``result IS NULL``: an unfinished claim must hold SQL NULL
    (not the JSON value null, which reads back as None all the same)."""
    assert store.range_tests.claim(study.id, "w1")
    with store.db.engine.connect() as connection:
        unfinished = connection.scalar(
            sa.select(sa.func.count())
            .select_from(RangeTestRow)
            .where(RangeTestRow.study_id == study.id, RangeTestRow.result.is_(None))
        )
    assert unfinished == 1


@pytest.mark.parametrize("w1_seen", [None, LIVE_WITHIN + 30], ids=["never-seen", "stale"])
def test_a_dead_workers_old_claim_is_taken_over(
    store: Store, study: StudyInfo, w1_seen: float | None
) -> None:
    if w1_seen is not None:
        _seen(store, "w1", ago=w1_seen)
    assert store.range_tests.claim(study.id, "w1")
    assert not store.range_tests.claim(study.id, "w2")  # young claim: kept
    _stale_claim(store, study.id)
    assert store.range_tests.claim(study.id, "w2")
    heir = store.range_tests.get(study.id)
    assert heir.worker == "w2" and heir.result is None
    assert heir.started_at > now() - timedelta(seconds=LIVE_WITHIN)  # its own, fresh start
    assert not store.range_tests.claim(study.id, "w3")  # the heir's claim is young


def test_finish_stores_the_result_and_spends_its_epochs(store: Store, study: StudyInfo) -> None:
    assert store.range_tests.claim(study.id, "w1")
    store.range_tests.finish(study.id, "w1", RESULT, epochs=1.5)
    claim = store.range_tests.get(study.id)
    assert claim.worker == "w1" and claim.result == RESULT
    assert store.studies.get(study.id).spent == 1.5
    assert not store.range_tests.claim(study.id, "w2")


def test_a_finished_test_is_never_taken_over(store: Store, study: StudyInfo) -> None:
    assert store.range_tests.claim(study.id, "w1")
    store.range_tests.finish(study.id, "w1", RESULT, epochs=1.0)
    _stale_claim(store, study.id)  # old, and w1 is not alive: but the result is there
    assert not store.range_tests.claim(study.id, "w2")
    assert store.range_tests.get(study.id).worker == "w1"


def test_a_finish_by_the_worker_who_lost_the_claim_does_nothing(
    store: Store, study: StudyInfo
) -> None:
    assert store.range_tests.claim(study.id, "w1")
    _stale_claim(store, study.id)
    assert store.range_tests.claim(study.id, "w2")
    store.range_tests.finish(study.id, "w1", {"suggestion": 9.0}, epochs=2.0)  # w1 was slow
    lost = store.range_tests.get(study.id)
    assert lost.worker == "w2" and lost.result is None
    assert store.studies.get(study.id).spent == 0.0  # its cost is not counted
    store.range_tests.finish(study.id, "w2", RESULT, epochs=1.0)
    done = store.range_tests.get(study.id)
    assert done.worker == "w2" and done.result == RESULT
    assert store.studies.get(study.id).spent == 1.0
    store.range_tests.finish(study.id, "w1", {"suggestion": 9.0}, epochs=2.0)  # later still
    assert store.range_tests.get(study.id).result == RESULT
    assert store.studies.get(study.id).spent == 1.0


def test_range_test_spend_counts_against_the_trials(store: Store, study: StudyInfo) -> None:
    assert study.budget == 70.0  # 100 less the re-runs' 30
    assert store.range_tests.claim(study.id, "w1")
    store.range_tests.finish(study.id, "w1", RESULT, epochs=3.0)
    claims = 0
    while store.slots.claim(study.id, 5) is not None:
        claims += 1
    assert claims == 13 and store.studies.get(study.id).spent == 68.0  # 3 + 13 x 5


def test_racing_claims_have_one_winner(store: Store, study: StudyInfo) -> None:
    with ThreadPoolExecutor(8) as pool:
        won = list(pool.map(lambda i: store.range_tests.claim(study.id, f"w{i}"), range(16)))
    assert won.count(True) == 1
    assert store.range_tests.get(study.id).worker == f"w{won.index(True)}"


def test_each_study_has_its_own_range_test(store: Store, study: StudyInfo) -> None:
    other = store.studies.create(StudySpec(name="other", epochs=5))
    assert store.range_tests.claim(study.id, "w1")
    assert store.range_tests.claim(other.id, "w2")
    store.range_tests.finish(other.id, "w2", RESULT, epochs=1.0)
    assert store.range_tests.get(study.id).result is None
    assert store.studies.get(study.id).spent == 0.0 and store.studies.get(other.id).spent == 1.0


def _rows(store: Store, study_id: int) -> int:
    with store.db.engine.connect() as connection:
        return connection.scalar(
            sa.select(sa.func.count())
            .select_from(RangeTestRow)
            .where(RangeTestRow.study_id == study_id)
        )


def test_deleting_the_study_removes_its_range_test(store: Store, study: StudyInfo) -> None:
    other = store.studies.create(StudySpec(name="kept", epochs=5))
    assert store.range_tests.claim(study.id, "w1") and store.range_tests.claim(other.id, "w1")
    store.range_tests.finish(study.id, "w1", RESULT, epochs=1.0)
    lifecycle.delete(store, store.studies.get(study.id))
    assert _rows(store, study.id) == 0 and store.range_tests.get(study.id) is None
    assert _rows(store, other.id) == 1  # another study's is left alone
    again = store.studies.create(StudySpec(name="calibrated", epochs=5))  # the name, reused
    assert store.range_tests.get(again.id) is None
    assert store.range_tests.claim(again.id, "w2")

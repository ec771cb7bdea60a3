"""A study's LR range test, as real workers run it (``worker.calibrate``, ``search.plan``):
real Worker objects training on digits, on a real SQLite file. Each test takes a few seconds
(the test itself is 100 steps, about 6 epochs of cnn-small on digits)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import optuna
import psycopg
import pytest
import sqlalchemy as sa

from schedsearch.core.range_test import RangeTest
from schedsearch.core.records import TrialRecord
from schedsearch.core.space import suggest
from schedsearch.core.spec import StudySpec
from schedsearch.core.states import StudyStatus
from schedsearch.search import lifecycle
from schedsearch.search.plan import centred_range, plan_of
from schedsearch.store import Store, StudyInfo
from schedsearch.store.database import now
from schedsearch.store.tables import RangeTestRow
from schedsearch.worker.loop import Worker, WorkerOptions
from tests.conftest import PG_ADMIN
from tests.processes import wait_for

optuna.logging.set_verbosity(optuna.logging.WARNING)
States = optuna.trial.TrialState
CALIBRATED = "range test: steepest descent"  # the line a worker logs once it ran the test


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'studies.db'}"


@pytest.fixture
def store(url: str) -> Iterator[Store]:
    store = Store(url)
    yield store
    store.close()


def worker(store: Store, name: str, **options: object) -> Worker:
    defaults: dict[str, object] = {"study": name, "device": "cpu", "poll": 0.05, "seed_index": 0}
    return Worker(store, WorkerOptions(**{**defaults, **options}))  # type: ignore[arg-type]


def spec(name: str, **fields: object) -> StudySpec:
    return StudySpec(name=name, epochs=2, rerun_top_k=0, **fields)  # type: ignore[arg-type]


def trained(store: Store, study: StudyInfo) -> float:
    """Epochs the study's trials trained: one report per epoch (a pruned one: what it ran)."""
    return float(sum(t.last_step or 0 for t in store.trials.all(study)))


def calibrations(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if CALIBRATED in r.getMessage()]


def assert_searched_around(store: Store, study: StudyInfo, test: RangeTest) -> None:
    """Every trial drew its base LR from the range centred on the test's suggestion."""
    centred = centred_range(test.suggestion)
    assert centred["low"] < test.suggestion < centred["high"]
    assert plan_of(study.spec, test).space.base_lr == centred
    trials = store.trials.all(study)
    assert trials
    for trial in trials:
        base_lr = TrialRecord.of(trial.user_attrs).base_lr
        assert base_lr is not None and centred["low"] <= base_lr <= centred["high"]
        assert trial.params["base_lr"] == base_lr
        drawn_from = trial.distributions["base_lr"]  # the sampler's space, not the default
        assert (drawn_from.low, drawn_from.high, drawn_from.log) == pytest.approx(
            (centred["low"], centred["high"], True)
        )


def test_a_worker_runs_the_range_test_once_counts_it_and_searches_around_it(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    study = lifecycle.submit(store, spec("calibrated", n_trials=4))
    assert study.spec.centres_lr() and store.range_tests.get(study.id) is None
    runner = worker(store, "calibrated")
    with caplog.at_level(logging.INFO, logger="schedsearch.worker"):
        assert runner.run() == 4
    study = store.studies.get(study.id)
    assert study.status == StudyStatus.COMPLETED
    claim = store.range_tests.get(study.id)
    assert claim is not None and claim.worker == runner.id and claim.result is not None
    test = RangeTest.model_validate(claim.result)
    assert test.suggestion > 0.0 and test.steps > 0 and test.epochs > 0.0
    assert len(test.lrs) == len(test.losses) > 0
    assert len(calibrations(caplog)) == 1
    # the test's epochs are spent by the study, beside what its trials trained
    assert study.spent == pytest.approx(test.epochs + trained(store, study), abs=1e-6)
    assert study.claimed == 4
    assert_searched_around(store, study, test)


def test_two_workers_in_threads_share_one_range_test(
    url: str, store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    study = lifecycle.submit(store, spec("shared", n_trials=6))
    stores = [Store(url), Store(url)]
    workers = [worker(s, "shared", seed_index=i + 1) for i, s in enumerate(stores)]
    ran: dict[int, int] = {}
    errors: list[BaseException] = []

    def serve(i: int) -> None:
        try:
            ran[i] = workers[i].run()
        except BaseException as exc:  # re-raised in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=serve, args=(i,)) for i in range(2)]
    with caplog.at_level(logging.INFO, logger="schedsearch.worker"):
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=120)
    for s in stores:
        s.close()
    assert not errors, errors
    assert not any(thread.is_alive() for thread in threads)
    assert sum(ran.values()) == 6
    assert len(calibrations(caplog)) == 1  # one sweep between them
    study = store.studies.get(study.id)
    assert study.status == StudyStatus.COMPLETED and study.claimed == 6
    claim = store.range_tests.get(study.id)
    assert claim is not None and claim.result is not None
    assert claim.worker in {w.id for w in workers}
    test = RangeTest.model_validate(claim.result)
    # counted once: a second sweep, or a slot given back twice, would show here
    assert study.spent == pytest.approx(test.epochs + trained(store, study), abs=1e-6)
    assert_searched_around(store, study, test)


def test_a_later_worker_uses_the_stored_range_test(
    url: str, store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    study = lifecycle.submit(store, spec("later", n_trials=3))
    first = worker(store, "later", max_trials=1)
    with caplog.at_level(logging.INFO, logger="schedsearch.worker"):
        assert first.run() == 1
        claim = store.range_tests.get(study.id)
        assert claim is not None and claim.worker == first.id and claim.result is not None
        second_store = Store(url)
        second = worker(second_store, "later", seed_index=1)
        assert second.run() == 2
        second_store.close()
    assert len(calibrations(caplog)) == 1
    after = store.range_tests.get(study.id)
    assert after is not None and after.worker == first.id and after.result == claim.result
    study = store.studies.get(study.id)
    assert study.status == StudyStatus.COMPLETED
    test = RangeTest.model_validate(claim.result)
    assert study.spent == pytest.approx(test.epochs + trained(store, study), abs=1e-6)
    assert_searched_around(store, study, test)  # the second worker's trials too


def test_a_range_test_claimed_by_a_live_worker_sends_this_one_away(store: Store) -> None:
    study = lifecycle.submit(store, spec("pending", n_trials=2))
    assert store.range_tests.claim(study.id, "other")
    store.workers.seen("other", "elsewhere", 1234, "cpu")  # alive, and running the test
    before = store.studies.get(study.id)
    runner = worker(store, "pending", idle_exit=0.5)
    assert runner.run() == 0  # gave up for lack of work: no trial ran
    study = store.studies.get(study.id)
    assert (study.claimed, study.spent) == (before.claimed, before.spent) == (0, 0.0)
    assert store.trials.all(study) == []
    assert study.status.active  # not failed: it waits for the other worker's result
    claim = store.range_tests.get(study.id)
    assert claim is not None and claim.worker == "other" and claim.result is None


def test_a_claim_whose_worker_stopped_beating_is_taken_over(store: Store) -> None:
    study = lifecycle.submit(store, spec("orphan", n_trials=1))
    assert store.range_tests.claim(study.id, "dead")  # a worker that never beat, long ago
    with store.db.engine.begin() as connection:
        connection.execute(
            sa.update(RangeTestRow)
            .where(RangeTestRow.study_id == study.id)
            .values(started_at=now() - timedelta(minutes=5))
        )
    runner = worker(store, "orphan")
    assert runner.run() == 1
    claim = store.range_tests.get(study.id)
    assert claim is not None and claim.worker == runner.id and claim.result is not None
    study = store.studies.get(study.id)
    assert study.status == StudyStatus.COMPLETED
    test = RangeTest.model_validate(claim.result)
    assert study.spent == pytest.approx(test.epochs + trained(store, study), abs=1e-6)


def test_a_worker_finishes_its_own_unfinished_range_test(store: Store) -> None:
    """What a database outage during ``RangeTests.finish`` leaves: this worker's own claim,
    without a result. The worker is alive, so nobody may take the claim over; it must not wait
    on itself for ever."""
    study = lifecycle.submit(store, spec("own-claim", n_trials=1))
    runner = worker(store, "own-claim", idle_exit=3.0)
    assert store.range_tests.claim(study.id, runner.id)
    assert runner.run() == 1
    claim = store.range_tests.get(study.id)
    assert claim is not None and claim.result is not None
    assert store.studies.get(study.id).status == StudyStatus.COMPLETED


@pytest.mark.parametrize(
    ("fields", "inside"),
    [
        ({"space": {"base_lr": 0.05}}, (0.05, 0.05)),
        ({"space": {"base_lr": {"low": 0.02, "high": 0.2, "log": True}}}, (0.02, 0.2)),
        ({"lr_range_test": False}, (0.01, 1.0)),
    ],
    ids=["fixed-base-lr", "user-range", "turned-off"],
)
def test_no_range_test_where_the_spec_decides_the_base_lr(
    store: Store, fields: dict, inside: tuple[float, float]
) -> None:
    study = lifecycle.submit(store, spec("uncalibrated", n_trials=2, **fields))
    assert not study.spec.centres_lr()
    assert worker(store, "uncalibrated").run() == 2
    study = store.studies.get(study.id)
    assert study.status == StudyStatus.COMPLETED
    assert store.range_tests.get(study.id) is None
    assert study.spent == pytest.approx(trained(store, study), abs=1e-6)
    for trial in store.trials.all(study):
        base_lr = TrialRecord.of(trial.user_attrs).base_lr
        assert base_lr is not None and inside[0] <= base_lr <= inside[1]


def test_no_range_test_for_a_custom_objective(store: Store) -> None:
    """A worker given ``objective_factory`` does not train our model: no sweep of it."""

    def factory(info: StudyInfo, should_stop: Callable[[], bool]) -> Callable:
        def objective(trial: optuna.Trial) -> float:
            sampled = suggest(trial, info.spec.search_space())
            trial.report(0.5, 1)
            return 1.0 / (1.0 + abs(sampled.base_lr - 0.1))

        return objective

    study = lifecycle.submit(store, spec("custom", n_trials=3))
    assert study.spec.centres_lr()
    runner = Worker(
        store,
        WorkerOptions(study="custom", device="cpu", poll=0.05, seed_index=0),
        objective_factory=factory,
    )
    assert runner.run() == 3
    study = store.studies.get(study.id)
    assert study.status == StudyStatus.COMPLETED
    assert store.range_tests.get(study.id) is None
    trials = store.trials.all(study)
    assert [t.state for t in trials] == [States.COMPLETE] * 3
    assert study.spent == pytest.approx(3.0)  # one epoch reported each, the rest refunded
    default = study.spec.search_space().base_lr
    for trial in trials:  # the spec's own base-LR range, uncentred
        drawn_from = trial.distributions["base_lr"]
        assert (drawn_from.low, drawn_from.high) == (default["low"], default["high"])


def test_a_database_outage_as_the_range_test_ends_leaves_no_study_stuck(
    pg_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A real outage on PostgreSQL (connections refused, sessions cut) while a worker sweeps:
    storing the result fails. Once the database is back, the study must go on to its end."""
    store = Store(pg_url)
    study = lifecycle.submit(store, spec("outage", n_trials=2))
    database = pg_url.rsplit("/", 1)[1]
    worker_store = Store(pg_url)
    runner = worker(worker_store, "outage", idle_exit=5.0)
    thread = threading.Thread(target=runner.run, daemon=True)
    admin = psycopg.connect(f"{PG_ADMIN} dbname=postgres", autocommit=True)
    try:
        with caplog.at_level(logging.INFO, logger="schedsearch.worker"):
            thread.start()
            wait_for(lambda: store.range_tests.get(study.id) is not None, every=0.005)
            claim = store.range_tests.get(study.id)
            assert claim is not None and claim.result is None  # the sweep is under way
            store.close()
            admin.execute(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS false')
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s",
                (database,),
            )
            wait_for(lambda: any("unavailable" in r.getMessage() for r in caplog.records))
            admin.execute(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS true')
            thread.join(timeout=120)
            ended = not thread.is_alive()  # by itself: the study over, or no work left
    finally:
        admin.execute(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS true')
        admin.close()
        runner.stop()  # a no-op when it is over; else it must not outlive its database
        thread.join(timeout=60)
        worker_store.close()
    assert ended
    store = Store(pg_url)
    try:
        study = store.studies.get(study.id)
        claim = store.range_tests.get(study.id)
        trials = store.trials.all(study)
        left = (study.status, study.claimed, study.spent, [t.state for t in trials])
        assert claim is not None and claim.result is not None, ("no range test result", left)
        assert study.status == StudyStatus.COMPLETED, left
        assert study.claimed == 2 and len(trials) == 2
        test = RangeTest.model_validate(claim.result)
        assert study.spent == pytest.approx(test.epochs + trained(store, study), abs=1e-6)
    finally:
        store.close()

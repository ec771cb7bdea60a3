"""A live worker taken for dead (it stalled past the grace period: a paused VM, a starved
heartbeat thread): another worker reaps its lease mid-trial, failing the trial and queueing it
again. Its next report then finds the trial finished, and Optuna cannot tell it; the worker
must drop that trial with one line and go on serving, not crash (found by the fault matrix,
tests/e2e/test_fault_matrix.py)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import timedelta

import optuna
import pytest
import sqlalchemy as sa

from schedsearch.core.space import suggest
from schedsearch.core.spec import StudySpec
from schedsearch.search import accounting
from schedsearch.store import Store, StudyInfo
from schedsearch.store.database import now
from schedsearch.store.tables import LeaseRow
from schedsearch.worker.loop import Worker, WorkerOptions

States = optuna.trial.TrialState


def test_a_worker_whose_lease_was_reaped_mid_trial_goes_on(
    db_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    store = Store(db_url, heartbeat_interval=1, grace_period=3)
    spec = StudySpec(name="stall", n_trials=2, epochs=1, rerun_top_k=0, lr_range_test=False)
    study = store.studies.create(spec)
    stalled: list[int] = []

    def factory(info: StudyInfo, should_stop: Callable[[], bool]) -> Callable:
        def objective(trial: optuna.Trial) -> float:
            suggest(trial, info.spec.search_space())
            if not stalled:  # the first trial: this worker stalls, and is taken for dead
                stalled.append(trial.number)
                with store.db.engine.begin() as connection:
                    connection.execute(
                        sa.update(LeaseRow).values(expires_at=now() - timedelta(seconds=1))
                    )
                assert accounting.reap(store, store.studies.get(info.id)) == 1  # another's reap
            trial.report(0.5, 1)  # raises for the reaped trial: it has finished (failed)
            return 0.5

        return objective

    options = WorkerOptions(study="stall", device="cpu", poll=0.05, seed_index=0, idle_exit=5)
    with caplog.at_level(logging.WARNING, logger="schedsearch.worker"):
        served = Worker(store, options, objective_factory=factory).run()  # does not raise
    assert served == 2
    assert "lease expired mid-trial; trial 0 was failed and queued again" in caplog.text
    study = store.studies.get(study.id)
    trials = store.trials.all(study)
    assert [t.state for t in trials] == [States.FAIL, States.COMPLETE, States.COMPLETE]
    assert trials[1].params == trials[0].params  # the reaped trial, run again
    assert study.status == "completed" and study.claimed == 2

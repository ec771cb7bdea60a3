"""Distributed workers: real worker processes on a real SQLite file and a real PostgreSQL."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
from collections import Counter
from pathlib import Path

import optuna
import pytest

from schedsearch.core.spec import StudySpec
from schedsearch.search import lifecycle
from schedsearch.store import Store
from tests.processes import finish, start_worker, wait_for

pytestmark = pytest.mark.slow

TRIAL_LINE = re.compile(r"study=(\S+) trial=(\d+) family=\S+ (\S+)")
States = optuna.trial.TrialState


def new_study(store: Store, name: str, **fields) -> int:
    fields = {"epochs": 1, "n_trials": 10, "families": ["cosine"], "rerun_top_k": 0, **fields}
    spec = StudySpec(name=name, **fields)
    return store.studies.create(spec).id


def states(store: Store, name: str) -> Counter:
    return Counter(t.state for t in store.trials.optuna_study(store.studies.get(name)).trials)


def test_four_workers_end_with_exactly_n_trials(db_url: str) -> None:
    store = Store(db_url)
    new_study(store, "race", n_trials=24, pruner="none")
    # each exits once the study is over (the others wait out the first one's range test)
    workers = [start_worker(db_url, "--study", "race") for _ in range(4)]
    logs = finish(workers)
    ran = [int(m.group(2)) for log in logs for m in TRIAL_LINE.finditer(log)]
    assert len(ran) == 24 and len(set(ran)) == 24, "a trial ran twice or went missing"
    assert sum(1 for log in logs if TRIAL_LINE.search(log)) >= 2, "work was not shared"
    assert states(store, "race") == Counter({States.COMPLETE: 24})
    study = store.studies.get("race")
    assert study.status == "completed" and study.claimed == 24
    assert store.trials.counts(study)["finished"] == 24
    assert store.workers.live() == []  # each worker removed itself on exit


def test_sigkilled_worker_trial_is_failed_and_retried(db_url: str) -> None:
    store = Store(db_url)
    new_study(store, "crash", n_trials=2, epochs=40, pruner="none")
    victim = start_worker(db_url, "--heartbeat-interval", "1", "--grace-period", "3")
    study = store.studies.get("crash")

    def reporting() -> bool:
        trials = store.trials.optuna_study(study).trials
        return any(t.state == States.RUNNING and t.intermediate_values for t in trials)

    wait_for(reporting)
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    dead = [t for t in store.trials.optuna_study(study).trials if t.state == States.RUNNING]
    assert len(dead) == 1  # left RUNNING by the dead worker
    rescuer = start_worker(
        db_url, "--heartbeat-interval", "1", "--grace-period", "3", "--study", "crash"
    )
    finish([rescuer])  # exits once the study is over
    trials = store.trials.optuna_study(study).trials
    by_number = {t.number: t for t in trials}
    assert by_number[dead[0].number].state == States.FAIL
    retries = [t for t in trials if t.system_attrs.get("failed_trial") == dead[0].number]
    assert len(retries) == 1 and retries[0].state == States.COMPLETE
    assert retries[0].params == dead[0].params  # the same schedule, run again
    assert Counter(t.state for t in trials) == Counter({States.COMPLETE: 2, States.FAIL: 1})
    assert store.studies.get("crash").status == "completed"


def test_sigterm_leaves_nothing_running(db_url: str) -> None:
    store = Store(db_url)
    new_study(store, "term", n_trials=2, epochs=30, pruner="none")
    worker = start_worker(db_url)
    study = store.studies.get("term")
    wait_for(lambda: any(t.intermediate_values for t in store.trials.optuna_study(study).trials))
    worker.send_signal(signal.SIGTERM)
    out, _ = worker.communicate(timeout=60)
    assert worker.returncode == 0, out
    assert "Traceback" not in out and "WorkerStopping" not in out, out  # one line says it
    assert re.search(r"study=term trial=0 family=\S+ stopped, queued again", out), out
    trials = store.trials.optuna_study(study).trials
    assert all(t.state != States.RUNNING for t in trials)
    assert [t.state for t in trials] == [States.FAIL, States.WAITING]  # failed and re-queued
    assert trials[1].params == trials[0].params
    assert store.studies.get("term").claimed == 0  # its slot came back
    finish([start_worker(db_url, "--study", "term")])  # and the study still completes
    assert states(store, "term")[States.COMPLETE] == 2


def test_two_studies_both_progress(db_url: str) -> None:
    store = Store(db_url)
    new_study(store, "first", n_trials=12, pruner="none")
    new_study(store, "second", n_trials=12, pruner="none")
    workers = [start_worker(db_url, "--max-trials", "8") for _ in range(2)]
    finish(workers)
    first, second = (
        store.trials.counts(store.studies.get(n))["finished"] for n in ("first", "second")
    )
    assert first + second == 16
    assert abs(first - second) <= 2  # least progress first: they advance side by side


def test_cancelled_study_gets_no_new_trials(db_url: str) -> None:
    store = Store(db_url)
    new_study(store, "stopme", n_trials=30, epochs=3, pruner="none")
    worker = start_worker(db_url, "--idle-exit", "1.5")
    wait_for(lambda: store.trials.counts(store.studies.get("stopme"))["finished"] >= 2)
    cancelled = lifecycle.cancel(store, store.studies.get("stopme"))
    assert cancelled.status == "cancelled"
    finish([worker])
    after = store.trials.optuna_study(store.studies.get("stopme")).trials
    assert len(after) <= cancelled.claimed + 1 < 30  # at most the trial already running
    assert all(t.state != States.RUNNING for t in after)


def _restart_postgres() -> None:
    version = sorted(os.listdir("/etc/postgresql"))[0]
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart"],
        check=True,
        capture_output=True,
        timeout=120,
    )


@pytest.mark.skipif(
    not (shutil.which("pg_ctlcluster") and os.path.isdir("/etc/postgresql") and os.geteuid() == 0),
    reason="needs the local PostgreSQL cluster",
)
@pytest.mark.alone  # the restart cuts every connection, the other tests' too
def test_workers_ride_out_a_postgres_restart(pg_url: str) -> None:
    store = Store(pg_url)
    new_study(store, "restart", n_trials=30, epochs=2, pruner="none")
    workers = [
        start_worker(
            pg_url, "--heartbeat-interval", "1", "--grace-period", "4", "--study", "restart"
        )
        for _ in range(2)
    ]
    wait_for(lambda: store.trials.counts(store.studies.get("restart"))["finished"] >= 4)
    _restart_postgres()  # every connection of every worker is cut
    finish(workers, timeout=300)  # both exit 0: they reconnected and went on
    study = store.studies.get("restart")
    assert study.status == "completed"
    assert store.trials.counts(study)["finished"] == 30


def test_a_study_that_cannot_run_is_failed_with_its_reason(db_url: str, tmp_path: Path) -> None:
    store = Store(db_url)
    new_study(store, "nodata", dataset="imagefolder:absent")
    new_study(store, "fine", n_trials=2)
    finish([start_worker(db_url, "--idle-exit", "1.5")])  # exits 0: one bad study is no crash
    broken = store.studies.get("nodata")
    assert broken.status == "failed" and broken.claimed == 0
    assert "DatasetError" in broken.error and "absent" in broken.error
    assert store.studies.get("fine").status == "completed"

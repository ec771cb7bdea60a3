"""Distributed workers: real worker processes on a real SQLite file and a real PostgreSQL."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import optuna
import pytest

from schedsearch.spec import StudySpec
from schedsearch.store import SCHEMA_VERSION, Store

EXE = shutil.which("schedsearch", path=str(Path(sys.executable).parent)) or "schedsearch"
TRIAL_LINE = re.compile(r"study=(\S+) trial=(\d+) family=\S+ (\S+)")
States = optuna.trial.TrialState


def start_worker(url: str, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [EXE, "worker", "--database-url", url, "--poll", "0.2", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )


def finish(workers: list[subprocess.Popen], timeout: float = 240) -> list[str]:
    logs = []
    for worker in workers:
        out, _ = worker.communicate(timeout=timeout)
        assert worker.returncode == 0, out
        logs.append(out)
    return logs


def wait_for(condition, timeout: float = 120, every: float = 0.2) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(every)


def new_study(store: Store, name: str, **fields) -> int:
    spec = StudySpec(name=name, **{"epochs": 1, "n_trials": 10, "families": ["cosine"], **fields})
    return store.create_study(spec).id


def states(store: Store, name: str) -> Counter:
    return Counter(t.state for t in store.optuna_study(store.get(name)).trials)


def test_four_workers_end_with_exactly_n_trials(db_url: str) -> None:
    store = Store(db_url)
    new_study(store, "race", n_trials=40, pruner="none")
    workers = [start_worker(db_url, "--idle-exit", "2") for _ in range(4)]
    logs = finish(workers)
    ran = [int(m.group(2)) for log in logs for m in TRIAL_LINE.finditer(log)]
    assert len(ran) == 40 and len(set(ran)) == 40, "a trial ran twice or went missing"
    assert sum(1 for log in logs if TRIAL_LINE.search(log)) >= 2, "work was not shared"
    assert states(store, "race") == Counter({States.COMPLETE: 40})
    study = store.get("race")
    assert study.status == "completed" and study.claimed == 40
    assert store.trial_counts(study)["finished"] == 40
    assert store.live_workers() == []  # each worker removed itself on exit


def test_sigkilled_worker_trial_is_failed_and_retried(db_url: str) -> None:
    store = Store(db_url)
    new_study(store, "crash", n_trials=2, epochs=40, pruner="none")
    victim = start_worker(db_url, "--heartbeat-interval", "1", "--grace-period", "3")
    study = store.get("crash")

    def reporting() -> bool:
        trials = store.optuna_study(study).trials
        return any(t.state == States.RUNNING and t.intermediate_values for t in trials)

    wait_for(reporting)
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    dead = [t for t in store.optuna_study(study).trials if t.state == States.RUNNING]
    assert len(dead) == 1  # left RUNNING by the dead worker
    rescuer = start_worker(
        db_url, "--heartbeat-interval", "1", "--grace-period", "3", "--study", "crash"
    )
    finish([rescuer])  # exits once the study is over
    trials = store.optuna_study(study).trials
    by_number = {t.number: t for t in trials}
    assert by_number[dead[0].number].state == States.FAIL
    retries = [t for t in trials if t.system_attrs.get("failed_trial") == dead[0].number]
    assert len(retries) == 1 and retries[0].state == States.COMPLETE
    assert retries[0].params == dead[0].params  # the same schedule, run again
    assert Counter(t.state for t in trials) == Counter({States.COMPLETE: 2, States.FAIL: 1})
    assert store.get("crash").status == "completed"


def test_sigterm_leaves_nothing_running(db_url: str) -> None:
    store = Store(db_url)
    new_study(store, "term", n_trials=2, epochs=30, pruner="none")
    worker = start_worker(db_url)
    study = store.get("term")
    wait_for(lambda: any(t.intermediate_values for t in store.optuna_study(study).trials))
    worker.send_signal(signal.SIGTERM)
    out, _ = worker.communicate(timeout=60)
    assert worker.returncode == 0, out
    trials = store.optuna_study(study).trials
    assert all(t.state != States.RUNNING for t in trials)
    assert [t.state for t in trials] == [States.FAIL, States.WAITING]  # failed and re-queued
    assert trials[1].params == trials[0].params
    assert store.get("term").claimed == 0  # its slot came back
    finish([start_worker(db_url, "--study", "term")])  # and the study still completes
    assert states(store, "term")[States.COMPLETE] == 2


def test_two_studies_both_progress(db_url: str) -> None:
    store = Store(db_url)
    new_study(store, "first", n_trials=12, pruner="none")
    new_study(store, "second", n_trials=12, pruner="none")
    workers = [start_worker(db_url, "--max-trials", "8") for _ in range(2)]
    finish(workers)
    first, second = (store.trial_counts(store.get(n))["finished"] for n in ("first", "second"))
    assert first + second == 16
    assert abs(first - second) <= 2  # least progress first: they advance side by side


def test_cancelled_study_gets_no_new_trials(db_url: str) -> None:
    store = Store(db_url)
    new_study(store, "stopme", n_trials=30, epochs=3, pruner="none")
    worker = start_worker(db_url, "--idle-exit", "1.5")
    wait_for(lambda: store.trial_counts(store.get("stopme"))["finished"] >= 2)
    cancelled = store.cancel("stopme")
    assert cancelled.status == "cancelled"
    finish([worker])
    after = store.optuna_study(store.get("stopme")).trials
    assert len(after) <= cancelled.claimed + 1 < 30  # at most the trial already running
    assert all(t.state != States.RUNNING for t in after)


def test_store_api_on_both_backends(db_url: str) -> None:
    store = Store(db_url)
    ids = [new_study(store, f"s{i}") for i in range(3)]
    page, total = store.list(limit=2)
    assert total == 3 and [s.id for s in page] == ids[::-1][:2]  # newest first
    assert store.get(str(ids[0])).name == "s0" == store.get("s0").name
    with pytest.raises(Exception, match="exists already"):
        new_study(store, "s0")
    assert store.claim(ids[0]) and store.get("s0").status == "running"
    store.release(ids[0])
    assert store.get("s0").claimed == 0
    store.delete("s1")
    assert [s.name for s in store.list()[0]] == ["s2", "s0"]
    assert "s1" not in [s.study_name for s in optuna.get_all_study_summaries(store.optuna)]
    assert store.schema_version() == SCHEMA_VERSION
    Store(db_url)  # opening an existing database again changes nothing
    assert store.list()[1] == 2


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
def test_workers_ride_out_a_postgres_restart(pg_url: str) -> None:
    store = Store(pg_url)
    new_study(store, "restart", n_trials=30, epochs=2, pruner="none")
    workers = [
        start_worker(
            pg_url, "--heartbeat-interval", "1", "--grace-period", "4", "--study", "restart"
        )
        for _ in range(2)
    ]
    wait_for(lambda: store.trial_counts(store.get("restart"))["finished"] >= 4)
    _restart_postgres()  # every connection of every worker is cut
    finish(workers, timeout=300)  # both exit 0: they reconnected and went on
    study = store.get("restart")
    assert study.status == "completed"
    assert store.trial_counts(study)["finished"] == 30


def test_a_study_that_cannot_run_is_failed_with_its_reason(db_url: str, tmp_path: Path) -> None:
    store = Store(db_url)
    new_study(store, "nodata", dataset=f"imagefolder:{tmp_path / 'absent'}")
    new_study(store, "fine", n_trials=2)
    finish([start_worker(db_url, "--idle-exit", "1.5")])  # exits 0: one bad study is no crash
    broken = store.get("nodata")
    assert broken.status == "failed" and broken.claimed == 0
    assert "DatasetError" in broken.error and "absent" in broken.error
    assert store.get("fine").status == "completed"

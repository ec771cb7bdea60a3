"""The fault matrix (hardening issue 14), on PostgreSQL, with real worker processes: a worker
killed with SIGKILL at each phase of its work (after its claim, as the dataset loads, between
epochs, between its last report and Optuna's tell, in a re-run trial), and studies deleted and
cancelled under load (with a worker killed in the cancelled one).

Every case ends with exactly N finished trials in every study (0 leaked slots: a study's
``claimed`` equals its finished trials; 0 zombie trials: nothing RUNNING; every lease ended)
and 0 worker crashes (each surviving worker is still up at the end and exits 0 on a clean
stop, without a traceback). A dead worker's claim is back in play (its lease ended: the slot
is free, its trial failed and queued again) within the grace period plus two heartbeat
intervals, measured from the kill while warm workers serve (a worker reaps between trials;
the first trial of a process spends seconds in torch's lazy imports). ``pytest -s`` prints the
figures of bench/RESULTS.md ("Fault matrix").

The victim is held at its phase by the worker's fault-injection hook
(``SCHEDSEARCH_FAULT_PAUSE``, schedsearch/worker/faults.py). Asserted elsewhere and not again
here: that a retry runs the dead trial's parameters and seed (test_workers.py, test_rerun.py),
that a deleted study's workers say so in one line each (test_delete_under_load.py), and that a
worker taken for dead mid-trial goes on (tests/worker/test_taken_for_dead.py).
"""

from __future__ import annotations

import signal
import socket
import subprocess
import threading
import time
from typing import Any, cast

import optuna
import pytest
import sqlalchemy as sa

from schedsearch.core.spec import StudySpec
from schedsearch.core.states import LeaseState
from schedsearch.search import lifecycle
from schedsearch.store import Store, StudyInfo, StudyNotFound
from schedsearch.store.tables import LeaseRow, WorkerRow
from tests.processes import SHARING, finish, start_worker, wait_for

pytestmark = pytest.mark.slow

INTERVAL, GRACE = 1, 3  # seconds: --heartbeat-interval, --grace-period
FAST = ("--heartbeat-interval", str(INTERVAL), "--grace-period", str(GRACE))
BOUND = GRACE + 2 * INTERVAL  # a dead worker's claim is back in play within this
# a reaping worker's own trial in progress, this test's polling, 2 loaded cores, other tests
MARGIN = 2.0 * SHARING
COMMON: dict[str, Any] = {
    "families": ["cosine"],
    "pruner": "none",
    "lr_range_test": False,
    "rerun_top_k": 0,
}
LEASES = cast(sa.Table, LeaseRow.__table__)
WORKERS = cast(sa.Table, WorkerRow.__table__)
# phase -> whether the victim holds a trial there (else only a claimed slot)
PHASES = {
    "after_claim": False,
    "dataset_load": False,
    "mid_epoch": True,
    "before_tell": True,
    "rerun": True,
}


class Output:
    """A process's output as it comes, read by a thread (the pipe never fills)."""

    def __init__(self, process: subprocess.Popen) -> None:
        self.lines: list[str] = []
        threading.Thread(target=self._read, args=(process,), daemon=True).start()

    def _read(self, process: subprocess.Popen) -> None:
        assert process.stdout is not None
        for line in process.stdout:
            self.lines.append(line)

    def has(self, text: str) -> bool:
        return any(text in line for line in self.lines)


def new_study(store: Store, name: str, **fields: Any) -> StudyInfo:
    return store.studies.create(StudySpec(name=name, **(COMMON | fields)))


def leases(store: Store, *where: Any) -> list[Any]:
    with store.db.engine.connect() as connection:
        return list(connection.execute(sa.select(LEASES).where(*where)).all())


def owner(process: subprocess.Popen) -> str:
    """A LIKE pattern for the worker process's id (``host-pid-random``), the owner of its leases."""
    return f"{socket.gethostname()}-{process.pid}-%"


def warm(store: Store, workers: list[subprocess.Popen]) -> bool:
    """Whether each worker has finished a trial (the first trial of a process pays for torch's
    lazy imports: seconds on 2 cores, during which it takes no turn, so reaps nothing)."""
    done = [LeaseState.COMPLETE.value, LeaseState.PRUNED.value]
    return all(
        leases(store, LEASES.c.owner.like(owner(w)), LEASES.c.state.in_(done)) for w in workers
    )


def busy_on(store: Store, study_ids: set[int], workers: list[subprocess.Popen]) -> bool:
    """Whether one of these workers still reports a trial of one of these studies."""
    pids = [w.pid for w in workers]
    with store.db.engine.connect() as connection:
        running = connection.execute(sa.select(WORKERS.c.study_id).where(WORKERS.c.pid.in_(pids)))
        return bool(set(running.scalars()) & study_ids)


def first_times(conditions: dict[str, Any], timeout: float = 60) -> dict[str, float]:
    """When (``time.monotonic``) each condition first holds, polled together every 0.05 s."""
    start, seen = time.monotonic(), {}
    while len(seen) < len(conditions):
        for name, condition in conditions.items():
            if name not in seen and condition():
                seen[name] = time.monotonic()
        assert time.monotonic() - start < timeout, f"timed out; so far {seen}"
        time.sleep(0.05)
    return seen


def exact(store: Store, study: StudyInfo) -> dict[str, int]:
    """Assert the study ended with exactly n_trials finished and nothing left claimed."""
    study = store.studies.get(study.id)
    counts = store.trials.counts(study)
    assert study.status == "completed", (study.name, study.status, counts)
    assert counts["finished"] == study.n_trials, (study.name, counts)
    assert study.claimed == counts["finished"], (study.name, study.claimed, counts)  # 0 leaked
    assert counts["running"] == counts["waiting"] == 0, (study.name, counts)  # 0 zombies
    return counts


def failed(store: Store, trial_id: int) -> bool:
    return store.optuna.get_trial(trial_id).state == optuna.trial.TrialState.FAIL


def nothing_held(store: Store) -> None:
    """Every lease of every study has ended."""
    assert leases(store, LEASES.c.state == LeaseState.ACTIVE.value) == []


def stop_cleanly(workers: list[subprocess.Popen]) -> list[str]:
    """0 crashes: each worker is still up, and exits 0 on SIGTERM, without a traceback."""
    assert [w.poll() for w in workers] == [None] * len(workers), "a worker exited early"
    for worker in workers:
        worker.send_signal(signal.SIGTERM)
    logs = finish(workers, timeout=60)
    assert not any("Traceback" in log for log in logs), logs
    return logs


def kill_all(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        if process.poll() is None:
            process.kill()
            process.wait(timeout=30)


@pytest.mark.parametrize("phase", list(PHASES))
def test_a_worker_killed_at_each_phase_leaves_exactly_n_trials(pg_url: str, phase: str) -> None:
    store = Store(pg_url)
    rerun = {"rerun_top_k": 1, "rerun_seeds": 2} if phase == "rerun" else {}
    search = new_study(
        store, "victim", epochs=2 if rerun else 3, n_trials=4 if rerun else 6, **rerun
    )
    bystander = new_study(store, "bystander", epochs=1, n_trials=8)
    victim = start_worker(
        pg_url, *FAST, "--study", "victim", env={"SCHEDSEARCH_FAULT_PAUSE": f"{phase}:300"}
    )
    out = Output(victim)
    healthy: list[subprocess.Popen] = []
    try:
        if not rerun:  # they start alongside; the victim claims before they finish a trial
            healthy = [start_worker(pg_url, *FAST) for _ in range(2)]  # serving every study
        wait_for(lambda: out.has(f"fault pause at {phase}") or victim.poll() is not None, 120)
        assert victim.poll() is None, "".join(out.lines)
        if rerun:  # after the victim has its re-run trial: else they might run them all
            healthy = [start_worker(pg_url, *FAST) for _ in range(2)]
        [held] = leases(
            store, LEASES.c.owner.like(owner(victim)), LEASES.c.state == LeaseState.ACTIVE.value
        )
        assert (held.trial_id is not None) == PHASES[phase], held  # the phase we meant
        wait_for(lambda: warm(store, healthy), 120)

        victim.send_signal(signal.SIGKILL)
        killed = time.monotonic()
        victim.wait(timeout=30)
        wait_for(lambda: leases(store, LEASES.c.id == held.id)[0].state != "active", 60, 0.05)
        recovery = time.monotonic() - killed
        [ended] = leases(store, LEASES.c.id == held.id)
        assert ended.state == LeaseState.EXPIRED.value  # the reaper's, not the victim's

        wait_for(lambda: not store.studies.get("victim").status.active, 180)
        wait_for(lambda: not store.studies.get("bystander").status.active, 180)
        logs = stop_cleanly(healthy)
    finally:
        kill_all([victim, *healthy])

    if PHASES[phase]:  # the dead worker's trial was failed (and queued again) by a reaper
        assert failed(store, held.trial_id)
    studies = [store.studies.get(search.id), *store.studies.children(search.id), bystander]
    if rerun:
        assert held.study_id == studies[1].id  # killed in a re-run trial
    figures = []
    for study in studies:  # each exact, the bystander unaffected
        counts = exact(store, study)
        figures.append(f"{study.name.split('.')[-1]}={counts['finished']}/{study.n_trials}")
    nothing_held(store)
    assert recovery <= BOUND + MARGIN, f"back in play after {recovery:.2f} s"
    print(
        f"\nfault-matrix phase={phase} recovery_s={recovery:.2f} bound_s={BOUND}"
        f" finished={','.join(figures)} leaked_slots=0 zombies=0 active_leases=0 crashes=0"
        f" taken_for_dead={sum(log.count('lease expired mid-trial') for log in logs)}"
    )


def test_studies_deleted_and_cancelled_under_load_leave_the_rest_exact(pg_url: str) -> None:
    """3 workers on 3 studies: one is deleted mid-trial, one cancelled mid-run while a fourth
    worker, killed at once, holds one of its trials (a cancelled study is served no more, yet
    its dead holder's lease must end, its trial must not stay RUNNING)."""
    store = Store(pg_url)
    doomed = new_study(store, "doomed", epochs=200, n_trials=3)  # deleted mid-trial
    halted = new_study(store, "halted", epochs=3, n_trials=40)  # cancelled mid-run
    survivor = new_study(store, "survivor", epochs=1, n_trials=12)
    victim = start_worker(
        pg_url, *FAST, "--study", "halted", env={"SCHEDSEARCH_FAULT_PAUSE": "mid_epoch:300"}
    )
    out = Output(victim)
    workers = [start_worker(pg_url, *FAST) for _ in range(3)]
    try:

        def mid_run() -> bool:
            return (
                out.has("fault pause at mid_epoch")
                and store.trials.counts(halted)["finished"] >= 1
                and any(t.intermediate_values for t in store.trials.all(doomed))
            )

        wait_for(lambda: mid_run() or victim.poll() is not None, 120)
        assert victim.poll() is None, "".join(out.lines)
        [held] = leases(store, LEASES.c.owner.like(owner(victim)), LEASES.c.state == "active")
        hit = time.monotonic()
        lifecycle.delete(store, store.studies.get("doomed"))
        cancelled = lifecycle.cancel(store, store.studies.get("halted"))
        victim.send_signal(signal.SIGKILL)
        killed = time.monotonic()
        victim.wait(timeout=30)
        assert cancelled.status == "cancelled"
        times = first_times(
            {
                # the deleted study's trials dropped at their next report (an epoch away; the
                # first epoch of a process pays for torch's lazy imports: no bound of ours)
                "dropped": lambda: not busy_on(store, {doomed.id}, workers),
                # the dead worker's lease ended, though its study is served no more
                "reaped": lambda: leases(store, LEASES.c.id == held.id)[0].state != "active",
            }
        )
        took = {"dropped": times["dropped"] - hit, "reaped": times["reaped"] - killed}
        wait_for(lambda: not store.studies.get("survivor").status.active, 180)
        # the trials that ran when "halted" was cancelled finish (as cancel lets them)
        wait_for(
            lambda: not leases(store, LEASES.c.study_id == halted.id, LEASES.c.state == "active")
        )
        logs = stop_cleanly(workers)
    finally:
        kill_all([victim, *workers])

    with pytest.raises(StudyNotFound):
        store.studies.get(doomed.id)
    assert leases(store, LEASES.c.study_id == doomed.id) == []  # its leases went with it
    assert "doomed" not in optuna.get_all_study_names(store.optuna)  # its trials too
    halted = store.studies.get(halted.id)
    counts = store.trials.counts(halted)
    assert halted.status == "cancelled" and counts["finished"] < halted.n_trials
    assert halted.claimed == counts["finished"], (halted.claimed, counts)  # 0 leaked slots
    assert counts["running"] == counts["waiting"] == 0, counts  # 0 zombies, no retry queued
    assert failed(store, held.trial_id)  # the dead worker's, failed though not served
    [ended] = leases(store, LEASES.c.id == held.id)
    assert ended.state == LeaseState.EXPIRED.value
    survived = exact(store, survivor)
    nothing_held(store)
    assert took["reaped"] <= BOUND + MARGIN, took
    print(
        f"\nfault-matrix case=delete+cancel+kill dropped_s={took['dropped']:.2f}"
        f" recovery_s={took['reaped']:.2f} bound_s={BOUND}"
        f" finished=survivor={survived['finished']}/{survivor.n_trials}"
        f" halted={counts['finished']}/{halted.n_trials}(cancelled)"
        " leaked_slots=0 zombies=0 active_leases=0 crashes=0"
        f" taken_for_dead={sum(log.count('lease expired mid-trial') for log in logs)}"
    )

"""The worker loop: ``schedsearch worker``.

Each turn: settle dead holders' leases (their slots come back, their trials are queued
again), pick the active study with the least progress, claim one of its trial slots with a
lease, atomically, and run one trial while the heartbeat thread renews the lease. The database
is the only meeting point, so any number of workers on any number of machines can serve the
same studies.

SIGTERM/SIGINT: the running trial stops at its next epoch end, is failed and queued again (its
slot returns), and the worker exits; nothing is left RUNNING.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import threading
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

import optuna
import sqlalchemy as sa
import torch
from optuna.trial import TrialState

from schedsearch.core.spec import StudySpec
from schedsearch.core.states import LeaseState
from schedsearch.engine.data import TensorData, load_dataset
from schedsearch.engine.train import resolve_device
from schedsearch.search import accounting, lifecycle
from schedsearch.search.plan import Plan, plan_of
from schedsearch.search.strategy import study_handle
from schedsearch.search.tell import feasible, held, tell
from schedsearch.store import Lease, Store, StudyInfo, caused_by_outage
from schedsearch.worker import calibrate, faults
from schedsearch.worker.calibrate import RangeTestPending
from schedsearch.worker.logs import log, log_trial
from schedsearch.worker.objective import Objective, WorkerStopping
from schedsearch.worker.settle import recover

TAKEN = "study=%s: this worker's lease expired mid-trial; trial %s was failed and queued again (%s)"
ObjectiveFactory = Callable[[StudyInfo, Callable[[], bool]], Callable[[optuna.Trial], float]]


@dataclass(frozen=True)
class WorkerOptions:
    study: str | None = None  # serve only this study; exit when it is over
    device: str = "auto"
    max_trials: int | None = None
    idle_exit: float | None = None  # seconds without work before exiting (None: never)
    poll: float = 1.0
    threads: int = 1
    seed_index: int | None = None  # sampler seed slot; None: a random one per worker
    log_json: bool = False
    data_dir: Path | None = None  # None: the settings' data_dir


class Worker:
    def __init__(
        self,
        store: Store,
        options: WorkerOptions,
        objective_factory: ObjectiveFactory | None = None,
    ) -> None:
        self.store = store
        self.options = options
        self.id = f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(3)}"
        self.device = resolve_device(options.device)
        self.seed_index = (
            options.seed_index
            if options.seed_index is not None
            else secrets.randbelow(2**31 - 1) + 1
        )
        self.objective_factory = objective_factory or self._training_objective
        self._trains = objective_factory is None  # our trainer: the range test applies
        self._plans: dict[int, Plan] = {}
        self.stopping = threading.Event()
        self.trials_run = 0
        self._studies: dict[int, tuple[optuna.Study, Callable[[optuna.Trial], float]]] = {}
        self._current: tuple[int | None, int | None] = (None, None)
        self.reaper = accounting.Reaper(store)
        self._lease: Lease | None = None  # the slot this worker holds
        # A trial cut short by a database outage: (study, lease, handle, trial number or None).
        self._interrupted: tuple[StudyInfo, Lease, optuna.Study | None, int | None] | None = None

    # -- lifecycle ------------------------------------------------------------------------

    def stop(self, signum: int | None = None, frame: FrameType | None = None) -> None:
        if signum is not None:
            log.info("worker %s: signal %s, stopping after the current epoch", self.id, signum)
        self.stopping.set()

    def run(self) -> int:
        """Serve trials until stopped, out of work, or at ``max_trials``; returns trials run."""
        torch.set_num_threads(self.options.threads)
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, self.stop)
            signal.signal(signal.SIGINT, self.stop)
        beat = threading.Thread(target=self._beat, daemon=True)
        beat.start()
        idle_since = time.monotonic()
        try:
            while not self.stopping.is_set():
                if (
                    self.options.max_trials is not None
                    and self.trials_run >= self.options.max_trials
                ):
                    break
                try:
                    worked = self._turn()
                except Exception as exc:
                    if not caused_by_outage(exc):
                        raise
                    log.warning(
                        "worker %s: database unavailable (%s); retrying",
                        self.id,
                        type(exc).__name__,
                    )
                    self.stopping.wait(self.options.poll)
                    continue
                if worked is None:
                    break  # the one study we serve is over
                if worked:
                    idle_since = time.monotonic()
                    continue
                idle = time.monotonic() - idle_since
                if self.options.idle_exit is not None and idle >= self.options.idle_exit:
                    break
                self.stopping.wait(self.options.poll)
        finally:
            self.stopping.set()
            beat.join(timeout=5)
            with contextlib.suppress(sa.exc.SQLAlchemyError):
                self.store.workers.gone(self.id)
        return self.trials_run

    def _beat(self) -> None:
        """Renew this worker's lease and tell the database it is alive (what status pages
        count as live workers)."""
        beats = self.store.heartbeats
        while True:
            with contextlib.suppress(sa.exc.SQLAlchemyError):  # the main loop reports outages
                self.store.leases.renew_owner(self.id, beats.grace_period)
                self.store.workers.seen(
                    self.id, socket.gethostname(), os.getpid(), str(self.device), *self._current
                )
            if self.stopping.wait(min(5.0, beats.interval)):
                return

    # -- one turn -------------------------------------------------------------------------

    def _turn(self) -> bool | None:
        """Run at most one trial: True if one ran, False if there was nothing to claim."""
        if self._interrupted is not None:
            recover(self.store, *self._interrupted)
            self._interrupted = None
        studies = serving(self.store, self.options.study)
        if studies is None:
            return None
        for study in studies:  # a dead worker's slot must come back even when none is free
            self.reaper.reap(study)
        # and in a study served no more (cancelled, failed mid-trial)
        self.reaper.reap_others({study.id for study in studies})
        for study in studies:
            claimed = self.store.leases.claim(
                study.id, self.id, self.store.heartbeats.grace_period, cost=study.spec.epochs
            )
            if claimed is not None:
                self._lease = claimed[1]
                faults.pause("after_claim")  # a test hook: nothing unless set
                try:
                    return self._run_trial(*claimed)
                finally:
                    self._lease = None
            lifecycle.conclude(self.store, study)
        return False

    def _run_trial(self, study: StudyInfo, lease: Lease) -> bool:
        """Run one trial of the claimed study; False when the study was not ready for it."""
        try:
            optuna_study, objective = self._prepared(study)
        except RangeTestPending:  # another worker is calibrating the study: come back later
            accounting.release(self.store, study, lease)
            return False
        except Exception as exc:  # the study cannot run here: say why, free the slot
            if caused_by_outage(exc):  # no trial began: the slot comes back once it is over
                self._interrupted = (study, lease, None, None)
                raise
            log.error("study=%s cannot run: %s", study.name, exc)
            lifecycle.fail(self.store, study, f"{type(exc).__name__}: {exc}")
            accounting.release(self.store, study, lease, reason=str(exc)[:500])
            return True
        started = time.perf_counter()
        try:
            trial = optuna_study.ask()
            value, state, failure = outcome(objective, trial)
            ended = tell(optuna_study, held(trial), value, state)
            if failure:  # said once recorded (a study deleted meanwhile says only that)
                log.warning("study=%s trial %d failed: %s", study.name, ended.number, failure)
            self.trials_run += 1
            stopped = self.stopping.is_set()
            settled = accounting.settle(self.store, study, optuna_study, ended, lease, stopped)
            if not settled:
                log.warning(
                    "study=%s: this worker's lease had expired; trial %d was retried elsewhere",
                    study.name,
                    ended.number,
                )
        except Exception as exc:
            if caused_by_outage(exc):  # settle the claimed slot once the database is back
                self._interrupted = (study, lease, optuna_study, self._current[1])
            elif self.store.studies.deleted(study):  # under our feet: nothing left to account for
                self._studies.pop(study.id, None)
                log.warning("study=%s was deleted; its running trial is dropped", study.name)
                return True
            elif taken(self.store, lease):  # taken for dead mid-trial: the reaper settled it
                log.warning(TAKEN, study.name, self._current[1], type(exc).__name__)
                return True
            raise
        finally:
            self._current = (None, None)
        log_trial(study.name, ended, time.perf_counter() - started, self.id, stopped)
        return True

    def _prepared(self, study: StudyInfo) -> tuple[optuna.Study, Callable[[optuna.Trial], float]]:
        """The study handle (with this worker's sampler) and objective, built once per study."""
        if study.id not in self._studies:
            plan = self._plan(study)
            handle = study_handle(self.store, study, self.seed_index, plan)
            objective = self.objective_factory(study, self.stopping.is_set)
            self._studies[study.id] = (handle, tracked(self, study.id, objective))
        return self._studies[study.id]

    def _plan(self, study: StudyInfo) -> Plan:
        """The search plan; the range test runs only where this worker trains the trials."""
        if not self._trains:
            return plan_of(study.spec, None)
        faults.pause("dataset_load")  # a test hook: nothing unless set
        data = study_data(study.spec, self.device, self.options.data_dir)
        self._plans[study.id] = calibrate.plan(self.store, study, data, self.id)
        return self._plans[study.id]

    def _training_objective(
        self, study: StudyInfo, should_stop: Callable[[], bool]
    ) -> Callable[[optuna.Trial], Any]:
        plan = self._plans.get(study.id) or plan_of(study.spec, None)
        data = study_data(study.spec, self.device, self.options.data_dir)
        return Objective(study.spec, data, plan.space, should_stop)


def serving(store: Store, only: str | None) -> list[StudyInfo] | None:
    """Studies to serve this turn, least progress first (``only``: that study, with its re-run
    phase); None when that study is over."""
    if only is None:
        return store.studies.active()
    study = store.studies.get(only)
    if not study.status.active:
        return None
    if not study.spec.rerun_top_k or not study.exhausted:
        return [study]  # no re-run phase can have begun: spare the query
    return [study, *(p for p in store.studies.children(study.id) if p.status.active)]


def outcome(
    objective: Callable[[optuna.Trial], float], trial: optuna.Trial
) -> tuple[float | None, TrialState | None, str | None]:
    """Run the objective: (its value, None, None), or how it ended early (PRUNED, or FAIL and
    why). An outage is raised instead: the trial was interrupted, not broken (``recover``)."""
    try:
        value = objective(trial)
    except optuna.TrialPruned:
        return None, TrialState.PRUNED, None
    except WorkerStopping:  # one line of log_trial's says so: stopped, queued again
        return None, TrialState.FAIL, None
    except Exception as exc:
        if caused_by_outage(exc):
            raise
        return None, TrialState.FAIL, "".join(traceback.format_exception(exc)).rstrip()
    if not feasible(value):
        return None, TrialState.FAIL, f"its value {value!r} is not a number"
    return value, None, None


def tracked(
    worker: Worker, study_id: int, objective: Callable[[optuna.Trial], float]
) -> Callable[[optuna.Trial], float]:
    """The objective, first recording which trial the worker runs: on its lease (the trial a
    dead worker leaves behind) and in the workers table (who runs what)."""

    def run(trial: optuna.Trial) -> float:
        worker._current = (study_id, trial.number)
        if worker._lease is not None:
            worker.store.leases.bind(worker._lease.id, trial._trial_id, trial.number)
        return objective(trial)

    return run


def taken(store: Store, lease: Lease) -> bool:
    """Whether another process ended this worker's lease: it took the worker for dead (a
    stall longer than the grace period), failed its trial, queued it again and gave its slot
    back; Optuna then cannot tell the trial, and nothing is left to account for here."""
    now = store.leases.get(lease.id)
    return now is not None and now.state is not LeaseState.ACTIVE


def study_data(spec: StudySpec, device: torch.device, data_dir: Path | None) -> TensorData:
    """The study's dataset, cached per process by ``load_dataset``."""
    return load_dataset(
        spec.dataset, device, spec.seed, root=data_dir, label_noise=spec.label_noise
    )

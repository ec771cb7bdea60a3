"""Accounting for a claimed slot once its lease ends, so that no slot is ever lost or counted
twice: one place for built-in workers, external trainers (``search.leased``) and the reaper.

A lease ends once (``Leases.end`` and ``Leases.expire`` are conditional UPDATEs); only the
process that ended it settles its slot. A holder that finds its lease already ended was taken
for dead: the reaper has settled it, and the holder does nothing more.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Collection
from datetime import datetime, timedelta

import optuna
from optuna.trial import FrozenTrial
from optuna.trial import TrialState as OptunaState

from schedsearch.core.states import LeaseState
from schedsearch.search import lifecycle
from schedsearch.store import Lease, Store, StudyInfo, StudyNotFound
from schedsearch.store.heartbeats import unspent

ENDS = {
    OptunaState.COMPLETE: LeaseState.COMPLETE,
    OptunaState.PRUNED: LeaseState.PRUNED,
    OptunaState.FAIL: LeaseState.FAILED,
}


def settle(
    store: Store,
    study: StudyInfo,
    handle: optuna.Study,
    trial: FrozenTrial,
    lease: Lease,
    requeue: bool = False,
    reason: str | None = None,
    failure: bool = True,
) -> Lease | None:
    """End the lease of a finished trial and account for it: a failure gives its slot back,
    and an interrupted trial (``requeue``: a stop, an outage) is queued again instead of
    counting as a failure (``failure``: whether a FAIL counts towards failing the study). The
    lease as ended, or None when it had already ended (nothing done here)."""
    state = (
        LeaseState.RELEASED if requeue and trial.state == OptunaState.FAIL else ENDS[trial.state]
    )
    ended = store.leases.end(lease.id, state, trial.value, reason)
    if ended is not None:
        account(store, study, handle, trial, requeue, failure)
    return ended


def account(
    store: Store,
    study: StudyInfo,
    handle: optuna.Study,
    trial: FrozenTrial,
    requeue: bool,
    failure: bool = True,
) -> None:
    """The slot and study figures for one finished trial whose lease has ended."""
    if trial.state == OptunaState.FAIL:
        if requeue:  # interrupted, not broken: run it again, as stored (a holder's copy
            # lacks the system attributes samplers wrote through the storage)
            store.heartbeats.requeue(handle, store.optuna.get_trial(trial._trial_id))
        elif failure:
            lifecycle.trial_failed(store, study)
        store.slots.release(study.id, refund=unspent(study, trial))
        return
    # A pruned trial's unspent epochs come back; the exhausted test is cheap, counting is not.
    value = trial.value if trial.state == OptunaState.COMPLETE else None
    if store.slots.finished(study.id, unspent(study, trial), value).exhausted:
        lifecycle.conclude(store, study)


def release(store: Store, study: StudyInfo, lease: Lease, reason: str | None = None) -> bool:
    """Give back a slot whose lease never became a trial (the study was not ready, the worker
    stopped first); whether this call gave it back."""
    if store.leases.end(lease.id, LeaseState.RELEASED, reason=reason) is None:
        return False
    store.slots.release(study.id, refund=lease.cost)
    return True


def fail_running(store: Store, trial_id: int) -> tuple[FrozenTrial, bool]:
    """Fail a trial if it is still RUNNING; the trial as it is now, and whether this call
    failed it (then, and only then, is its retry this caller's to queue)."""
    try:
        store.optuna.set_trial_state_values(trial_id, OptunaState.FAIL)
        failed_here = True
    except optuna.exceptions.UpdateFinishedTrialError:  # finished first, or failed by another
        failed_here = False
    return store.optuna.get_trial(trial_id), failed_here


def reap(store: Store, study: StudyInfo) -> int:
    """Settle the study's leases whose holders stopped renewing them, and fail trials left
    RUNNING without any lease (a holder killed between asking for its trial and recording it
    on its lease); how many leases were reaped.

    A dead holder's trial is failed and queued again (up to ``max_retry`` times; not in a
    study that hands out trials no more: cancelled or failed); one that had finished before
    its holder died is counted as finished; a lease without a trial just gives its slot back.
    """
    expired = store.leases.expire(study.id)
    retry = study.status.active
    for lease in expired:
        if lease.trial_id is None:
            store.slots.release(study.id, refund=lease.cost)
            continue
        # Only its holder or this reaper (the one that expired its lease) fails a bound trial,
        # and a holder that failed it and died settled nothing: the retry is ours either way.
        trial, _ = fail_running(store, lease.trial_id)
        account(store, study, store.heartbeats.handle(study), trial, requeue=retry, failure=False)
    _fail_orphans(store, study)
    return len(expired)


def reap_overdue(store: Store, served: Collection[int] = ()) -> None:
    """Reap every study that holds an expired lease, but those in ``served`` (their workers'
    turns reap them): a study cancelled or failed while a holder ran its trial is served no
    more, and its dead holders' trials would otherwise stay RUNNING and their slots out."""
    for study_id in store.leases.overdue_studies():
        if study_id not in served:
            with contextlib.suppress(StudyNotFound):  # deleted meanwhile
                reap(store, store.studies.get(study_id))


class Reaper:
    """Reaps at most once per heartbeat interval per study: no lease can expire faster. One
    per worker and per API process (a second reaper racing is harmless: each lease is
    expired by one UPDATE)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._last: dict[int | None, float] = {}  # None: the studies not served

    def _due(self, key: int | None) -> bool:
        if time.monotonic() - self._last.get(key, -math.inf) < self.store.heartbeats.interval:
            return False
        self._last[key] = time.monotonic()
        return True

    def reap(self, study: StudyInfo) -> None:
        if self._due(study.id):
            reap(self.store, study)

    def reap_others(self, served: Collection[int]) -> None:
        """The studies not in ``served`` that hold an expired lease (``reap_overdue``)."""
        if self._due(None):
            reap_overdue(self.store, served)


def _fail_orphans(store: Store, study: StudyInfo) -> None:
    """RUNNING trials no lease was ever bound to, started over a lease's length ago. Their lease
    gave its slot back when it expired (it had no trial yet), so only the trial is failed,
    and its parameters are queued again (in a study still active)."""
    running = store.trials.running(study)
    bound = store.leases.bound([trial_id for trial_id, _ in running])  # a lease settles those
    # Optuna stamps trials with naive local time.
    before = datetime.now() - timedelta(seconds=store.heartbeats.grace_period)
    for trial_id, started in running:
        if trial_id not in bound and started is not None and started < before:
            trial, failed_here = fail_running(store, trial_id)
            if failed_here and study.status.active:
                store.heartbeats.requeue(store.heartbeats.handle(study), trial)

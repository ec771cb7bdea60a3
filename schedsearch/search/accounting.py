"""Accounting for a claimed slot once its lease ends, so that no slot is ever lost or counted
twice: one place for built-in workers, external trainers (``search.leased``) and the reaper.

A lease ends once (``Leases.end`` and ``Leases.expire`` are conditional UPDATEs); only the
process that ended it settles its slot. A holder that finds its lease already ended was taken
for dead: the reaper has settled it, and the holder does nothing more.
"""

from __future__ import annotations

import contextlib
from datetime import datetime, timedelta

import optuna
from optuna.trial import FrozenTrial
from optuna.trial import TrialState as OptunaState

from schedsearch.core.states import LeaseState
from schedsearch.search import lifecycle
from schedsearch.store import Lease, Store, StudyInfo
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
) -> bool:
    """End the lease of a finished trial and account for it: a failure gives its slot back,
    and an interrupted trial (``requeue``: a stop, an outage) is queued again instead of
    counting as a failure (``failure``: whether a FAIL counts towards failing the study). False
    when the lease had already ended (nothing done here)."""
    state = (
        LeaseState.RELEASED if requeue and trial.state == OptunaState.FAIL else ENDS[trial.state]
    )
    if store.leases.end(lease.id, state, trial.value, reason) is None:
        return False
    account(store, study, handle, trial, requeue, failure)
    return True


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
        if requeue:
            store.heartbeats.requeue(handle, trial)  # interrupted, not broken: run it again
        elif failure:
            lifecycle.trial_failed(store, study)
        store.slots.release(study.id, refund=unspent(study, trial))
        return
    store.slots.spend(study.id, -unspent(study, trial))  # a pruned trial's rest comes back
    if trial.state == OptunaState.COMPLETE and trial.value is not None:
        store.slots.record_value(study.id, trial.value)
    if store.slots.exhausted(study.id):  # cheap test before counting
        lifecycle.conclude(store, study)


def release(store: Store, study: StudyInfo, lease: Lease, reason: str | None = None) -> bool:
    """Give back a slot whose lease never became a trial (the study was not ready, the worker
    stopped first); whether this call gave it back."""
    if store.leases.end(lease.id, LeaseState.RELEASED, reason=reason) is None:
        return False
    store.slots.release(study.id, refund=lease.cost)
    return True


def fail_running(store: Store, trial_id: int) -> FrozenTrial:
    """Fail a trial if it is still RUNNING; the trial as it is now."""
    with contextlib.suppress(optuna.exceptions.UpdateFinishedTrialError):  # finished first
        store.optuna.set_trial_state_values(trial_id, OptunaState.FAIL)
    return store.optuna.get_trial(trial_id)


def reap(store: Store, study: StudyInfo) -> int:
    """Settle the study's leases whose holders stopped renewing them, and fail trials left
    RUNNING without any lease (a holder killed between asking for its trial and recording it
    on its lease); how many leases were reaped.

    A dead holder's trial is failed and queued again (up to ``max_retry`` times); one that had
    finished before its holder died is counted as finished; a lease without a trial just gives
    its slot back.
    """
    expired = store.leases.expire(study.id)
    for lease in expired:
        if lease.trial_id is None:
            store.slots.release(study.id, refund=lease.cost)
            continue
        trial = fail_running(store, lease.trial_id)
        account(store, study, store.heartbeats.handle(study), trial, requeue=True)
    _fail_orphans(store, study)
    return len(expired)


def _fail_orphans(store: Store, study: StudyInfo) -> None:
    """RUNNING trials no active lease holds, started over a lease's length ago. Their lease
    gave its slot back when it expired (it had no trial yet), so only the trial is failed,
    and its parameters are queued again."""
    held = {lease.trial_id for lease in store.leases.active(study.id)}
    # Optuna stamps trials with naive local time.
    before = datetime.now() - timedelta(seconds=store.heartbeats.grace_period)
    for trial_id, started in store.trials.running(study):
        if trial_id not in held and started is not None and started < before:
            trial = fail_running(store, trial_id)
            if trial.state == OptunaState.FAIL:
                store.heartbeats.requeue(store.heartbeats.handle(study), trial)

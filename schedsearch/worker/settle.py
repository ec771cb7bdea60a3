"""Accounting for a trial once it ends, so that no slot is ever lost or counted twice."""

from __future__ import annotations

import optuna

from schedsearch.search import lifecycle
from schedsearch.store import Store, StudyInfo
from schedsearch.store.heartbeats import unspent


def settle(
    store: Store,
    study: StudyInfo,
    handle: optuna.Study,
    trial: optuna.trial.FrozenTrial,
    requeue: bool = False,
) -> None:
    """Account for a finished trial: a failure gives its slot back, and an interrupted trial
    (``requeue``: a stop, an outage) is queued again instead of counting as a failure."""
    if trial.state == optuna.trial.TrialState.FAIL:
        if requeue:
            store.heartbeats.requeue(handle, trial)  # interrupted, not broken: run it again
        else:
            lifecycle.trial_failed(store, study)
        store.slots.release(study.id, refund=unspent(study, trial))
        return
    store.slots.spend(study.id, -unspent(study, trial))  # a pruned trial's rest comes back
    if trial.state == optuna.trial.TrialState.COMPLETE and trial.value is not None:
        store.slots.record_value(study.id, trial.value)
    if store.slots.exhausted(study.id):  # cheap test before counting
        lifecycle.conclude(store, study)


def recover(
    store: Store, study: StudyInfo, handle: optuna.Study | None, number: int | None
) -> None:
    """Account for a trial an outage cut short: its slot must not be lost.

    No trial began: the slot is free again. Finished (a failure included: interrupted, not
    broken): settled like any trial. Still RUNNING: its heartbeat has stopped, so the
    stale-trial check frees it.
    """
    if number is None or handle is None:
        store.slots.release(study.id, refund=study.spec.epochs)
        return
    trial = store.trials.get(study, number)
    if trial.state.is_finished():
        settle(store, study, handle, trial, requeue=True)

"""A trial that a database outage cut short: its slot must not be lost."""

from __future__ import annotations

import optuna

from schedsearch.search import accounting
from schedsearch.store import Lease, Store, StudyInfo


def recover(
    store: Store, study: StudyInfo, lease: Lease, handle: optuna.Study | None, number: int | None
) -> None:
    """Account for the worker's own lease once the database is back.

    No trial began: the slot is free again. A trial still RUNNING is failed here (this worker
    renews its own leases, so no reaper would find it dead), and like a finished failure it is
    queued again: interrupted, not broken. A finished trial is settled like any other.
    """
    if number is None or handle is None:
        accounting.release(store, study, lease, reason="database outage before the trial began")
        return
    trial = store.trials.get(study, number)
    if not trial.state.is_finished():
        trial, _ = accounting.fail_running(store, trial._trial_id)
    accounting.settle(store, study, handle, trial, lease, requeue=True)

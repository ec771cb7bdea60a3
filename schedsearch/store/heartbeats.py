"""Liveness settings and retries: how long a lease lasts, how often its holder renews it, and
how a dead holder's trial is queued again.

Every claimed slot is a lease (``store.leases``); its holder renews it, a built-in worker from
its heartbeat thread, an external trainer through ``POST /leases/{id}/heartbeat``. Optuna's own
trial heartbeats are off: one mechanism covers both kinds of trial and the window before a
trial exists (a worker killed while it loads the dataset holds a lease, not yet a trial).
"""

from __future__ import annotations

import optuna

from schedsearch.store.database import quiet_experimental
from schedsearch.store.studies import StudyInfo

DEFAULT_INTERVAL, DEFAULT_GRACE = 30, 120  # seconds: as ``Settings`` defaults


def unspent(study: StudyInfo, trial: optuna.trial.FrozenTrial) -> float:
    """Epochs a trial's claim reserved and it did not train (a report per epoch trained)."""
    return float(max(0, study.spec.epochs - (trial.last_step or 0)))


class Heartbeats:
    def __init__(
        self,
        storage: optuna.storages.RDBStorage,
        interval: int | None,
        grace_period: int | None,
        max_retry: int,
    ) -> None:
        self.storage = storage
        self.interval = interval or DEFAULT_INTERVAL  # seconds between renewals
        self.grace_period = grace_period or DEFAULT_GRACE  # a lease's length
        self.max_retry = max_retry
        self._handles: dict[str, optuna.Study] = {}

    def handle(self, study: StudyInfo) -> optuna.Study:
        """An Optuna handle for queueing retries (loading one costs 5 statements: once)."""
        if study.name not in self._handles:
            self._handles[study.name] = optuna.load_study(
                study_name=study.name, storage=self.storage
            )
        return self._handles[study.name]

    def requeue(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        """Queue the same parameters again (up to ``max_retry`` times per original trial), as
        Optuna's stale-trial retry does: the retry records which trial it repeats."""
        with quiet_experimental():
            retry = optuna.storages.RetryHeartbeatStaleTrialCallback(max_retry=self.max_retry)
            retry(study, trial)

"""Dead workers' trials: found by their stopped heartbeats, failed, and queued again.

Optuna records the heartbeats (``RDBStorage(heartbeat_interval=...)``) and fails stale trials
in ``fail_stale_trials``; we add what a slot-counted study needs on top: the dead trial's slot
comes back and its parameters are queued again (at most ``max_retry`` times per trial).
"""

from __future__ import annotations

import optuna

from schedsearch.store.database import quiet_experimental
from schedsearch.store.slots import Slots
from schedsearch.store.studies import Studies, StudyInfo


def unspent(study: StudyInfo, trial: optuna.trial.FrozenTrial) -> float:
    """Epochs a trial's claim reserved and it did not train (a report per epoch trained)."""
    return float(max(0, study.spec.epochs - (trial.last_step or 0)))


class Heartbeats:
    def __init__(
        self, storage: optuna.storages.RDBStorage, studies: Studies, slots: Slots, max_retry: int
    ) -> None:
        self.storage = storage
        self.studies = studies
        self.slots = slots
        self.max_retry = max_retry
        self._handles: dict[str, optuna.Study] = {}

    @property
    def interval(self) -> int | None:
        return self.storage.get_heartbeat_interval()

    def on_stale_trial(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        """Heartbeat-stale trial (its worker died): free its slot and queue a retry.

        Optuna calls this only in the process whose UPDATE failed the trial, so once per trial.
        """
        info = self.studies.get(study.study_name)
        self.requeue(study, trial)
        self.slots.release(info.id, refund=unspent(info, trial))

    def requeue(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        """Queue the same parameters again (up to ``max_retry`` times per original trial)."""
        with quiet_experimental():
            retry = optuna.storages.RetryHeartbeatStaleTrialCallback(max_retry=self.max_retry)
            retry(study, trial)

    def fail_stale(self, study: StudyInfo) -> None:
        """Fail the study's trials whose heartbeat stopped (runs ``on_stale_trial`` for each)."""
        if self.interval is None:
            return
        if study.name not in self._handles:  # loading a study costs 5 statements: once
            self._handles[study.name] = optuna.load_study(
                study_name=study.name, storage=self.storage
            )
        with quiet_experimental():
            optuna.storages.fail_stale_trials(self._handles[study.name])

"""Optuna's cached storage, minus the full re-read of running trials on every ask, and minus
the read of a trial this handle has just created.

``Study.ask`` first looks for an enqueued trial (``_pop_waiting_trial_id`` lists the WAITING
trials), and any list through ``_CachedStorage`` re-reads every unfinished trial in full (7
statements, then a FrozenTrial each): about 20 ms of a leased ask with 16 agents at work
(bench/lease_profile.py). Here that one list asks the database which trials wait (one indexed
statement) and reads only those, fresh. And ``Study.ask`` builds its ``Trial`` by reading
back the trial it has just created (six statements), though creating it returned it whole: that
first read is served from the copy. Every other call is Optuna's.
"""

from __future__ import annotations

import copy
from collections.abc import Container

import sqlalchemy as sa
from optuna.storages import RDBStorage
from optuna.storages._cached_storage import _CachedStorage, _StudyInfo
from optuna.storages._rdb import models
from optuna.trial import FrozenTrial, TrialState

_TRIALS = models.TrialModel.__table__


class StudyCache(_CachedStorage):
    """One study handle's storage (``Trials.optuna_study``)."""

    def __init__(self, backend: RDBStorage) -> None:
        super().__init__(backend)
        self._rdb = backend
        self._created: dict[int, FrozenTrial] = {}  # by trial id, until its first read

    def create_new_trial(self, study_id: int, template_trial: FrozenTrial | None = None) -> int:
        """As Optuna's, keeping a new RUNNING trial for the read that follows (only that one: a
        later read must see what others wrote, such as a reaper that failed the trial). A
        trial from a template (an enqueued one) is not kept: it is read when it is popped."""
        created = self._rdb._create_new_trial(study_id, template_trial)
        with self._lock:
            self._studies.setdefault(study_id, _StudyInfo())
            self._add_trials_to_cache(study_id, [created])
            if template_trial is None:
                self._created[created._trial_id] = copy.deepcopy(created)
        return created._trial_id

    def get_trial(self, trial_id: int) -> FrozenTrial:
        with self._lock:
            created = self._created.pop(trial_id, None)
        return created if created is not None else super().get_trial(trial_id)

    def get_all_trials(
        self,
        study_id: int,
        deepcopy: bool = True,
        states: Container[TrialState] | None = None,
    ) -> list[FrozenTrial]:
        if states is None or not _only_waiting(states):
            return super().get_all_trials(study_id, deepcopy, states)
        with self._rdb.engine.connect() as connection:
            ids = (
                connection.execute(
                    sa.select(_TRIALS.c.trial_id)
                    .where(_TRIALS.c.study_id == study_id, _TRIALS.c.state == TrialState.WAITING)
                    .order_by(_TRIALS.c.number)
                )
                .scalars()
                .all()
            )
        trials = [self._rdb.get_trial(trial_id) for trial_id in ids]
        with self._lock:  # known to the cache, as Optuna's list would have left them
            study = self._studies.setdefault(study_id, _StudyInfo())
            self._add_trials_to_cache(study_id, trials)
            study.unfinished_trial_ids.update(trial._trial_id for trial in trials)
        return copy.deepcopy(trials) if deepcopy else trials


def _only_waiting(states: Container[TrialState]) -> bool:
    """Whether the filter lets WAITING trials through and nothing else."""
    return all((state in states) == (state == TrialState.WAITING) for state in TrialState)

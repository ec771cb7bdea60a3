"""A study's trials as the pruners read them: number, state, final value, reported values.

A pruner compares the trial at hand with its peers on every report. Listing them through
Optuna's cached storage re-reads every RUNNING trial in full (params, distributions, both kinds
of attributes: 7 statements, then a FrozenTrial each): half of a leased report's time at 16
agents, and growing with them (bench/RESULTS.md, "Leased trials under load"). Pruners need none
of that, so ``Peers`` keeps each finished trial once (it never changes) and reads, in two
statements, the trials that are new or were unfinished at the last call, and the values they
reported. A trial finished by another process is seen at the next call, as Optuna's cache sees
it (``tests/store/test_peers.py``).
"""

from __future__ import annotations

import math
import threading
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import optuna
import sqlalchemy as sa
from optuna.storages._rdb import models
from optuna.study import StudyDirection
from optuna.trial import FrozenTrial, TrialState

from schedsearch.store.database import Database

_TRIALS = models.TrialModel.__table__
_VALUES = models.TrialValueModel.__table__
_REPORTS = models.TrialIntermediateValueModel.__table__
_RANKED = (TrialState.COMPLETE, TrialState.PRUNED)
MAX_LISTED = 500  # ids in one statement's IN list


@dataclass(frozen=True)
class Peer:
    """What a pruner reads of a trial (the same names as on Optuna's FrozenTrial)."""

    number: int
    state: TrialState
    value: float | None
    intermediate_values: Mapping[int, float]


@dataclass
class _Known:
    finished: dict[int, Peer] = field(default_factory=dict)  # by trial id: final
    unfinished: set[int] = field(default_factory=set)  # ids to read again next time
    seen_up_to: int = -1  # every trial id up to this one was read at least once
    # The best COMPLETE trial either way, as (value, number, trial id): kept as trials finish,
    # so finding it costs nothing as the study grows. Ties: the lower number.
    highest: tuple[float, int, int] | None = None
    lowest: tuple[float, int, int] | None = None

    def add_complete(self, trial_id: int, peer: Peer) -> None:
        if peer.value is None or math.isnan(peer.value):
            return
        entry = (peer.value, peer.number, trial_id)
        if self.highest is None or (-entry[0], entry[1]) < (-self.highest[0], self.highest[1]):
            self.highest = entry
        if self.lowest is None or entry[:2] < self.lowest[:2]:
            self.lowest = entry


class Peers:
    """Per Optuna study id, its trials for the pruners; one per process, thread-safe."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._known: dict[int, _Known] = defaultdict(_Known)
        self._lock = threading.Lock()

    def of(self, study: optuna.Study) -> list[Peer]:
        """The study's trials, by number (``search.pruners.PeersOf``)."""
        return sorted(self._current(study._study_id), key=lambda peer: peer.number)

    def finished(self, study: optuna.Study) -> int:
        """How many of the study's trials are COMPLETE or PRUNED (the prior's evidence)."""
        return sum(peer.state in _RANKED for peer in self._current(study._study_id))

    def best(self, study: optuna.Study) -> FrozenTrial | None:
        """The study's best COMPLETE trial (ties: the first by number), or None before one: the
        prior's incumbent. Kept as trials finish, then read in full from the study's cached
        storage; Optuna's ``get_best_trial`` sorts every complete trial in SQL on each call."""
        self._current(study._study_id)  # up to date
        with self._lock:
            known = self._known[study._study_id]
            best = known.highest if study.direction == StudyDirection.MAXIMIZE else known.lowest
        return None if best is None else study._storage.get_trial(best[2])

    def _current(self, optuna_study_id: int) -> list[Peer]:
        """Every trial of the study as it is now, in no particular order."""
        with self._lock:
            known = self._known[optuna_study_id]
            unfinished = sorted(known.unfinished)
            seen_up_to = known.seen_up_to
        current = self._read(optuna_study_id, seen_up_to, unfinished)
        with self._lock:
            for trial_id, peer in current.items():
                known.seen_up_to = max(known.seen_up_to, trial_id)
                if peer.state.is_finished():
                    if peer.state == TrialState.COMPLETE and trial_id not in known.finished:
                        known.add_complete(trial_id, peer)
                    known.finished[trial_id] = peer
                    known.unfinished.discard(trial_id)
                else:
                    known.unfinished.add(trial_id)
            running = [p for i, p in current.items() if i not in known.finished]
            return [*known.finished.values(), *running]

    def _read(self, study_id: int, seen_up_to: int, unfinished: Sequence[int]) -> dict[int, Peer]:
        """The trials after ``seen_up_to`` and those in ``unfinished``, with their values. The
        statements never list more than ``MAX_LISTED`` ids (drivers cap the parameters of one
        statement); past that, every trial from the first unfinished one on is read again."""
        chosen = _TRIALS.c.trial_id > seen_up_to
        if len(unfinished) > MAX_LISTED:
            chosen = _TRIALS.c.trial_id >= unfinished[0]  # sorted: a superset, read as well
        elif unfinished:
            chosen = sa.or_(chosen, _TRIALS.c.trial_id.in_(unfinished))
        with self.db.reads.connect() as connection:
            trials = connection.execute(
                sa.select(
                    _TRIALS.c.trial_id,
                    _TRIALS.c.number,
                    _TRIALS.c.state,
                    _VALUES.c.value,
                    _VALUES.c.value_type,
                )
                .outerjoin(
                    _VALUES,
                    sa.and_(_VALUES.c.trial_id == _TRIALS.c.trial_id, _VALUES.c.objective == 0),
                )
                .where(_TRIALS.c.study_id == study_id, chosen)
            ).all()
            if not trials:
                return {}
            reports: dict[int, dict[int, float]] = defaultdict(dict)
            for trial_id, step, value, kind in connection.execute(
                sa.select(
                    _REPORTS.c.trial_id,
                    _REPORTS.c.step,
                    _REPORTS.c.intermediate_value,
                    _REPORTS.c.intermediate_value_type,
                )
                .join(_TRIALS, _TRIALS.c.trial_id == _REPORTS.c.trial_id)
                .where(_TRIALS.c.study_id == study_id, chosen)
            ):
                as_float = models.TrialIntermediateValueModel.stored_repr_to_intermediate_value
                reports[trial_id][step] = as_float(value, kind)
        return {
            row.trial_id: Peer(
                number=row.number,
                state=row.state,
                value=None
                if row.value_type is None
                else models.TrialValueModel.stored_repr_to_value(row.value, row.value_type),
                intermediate_values=reports.get(row.trial_id, {}),
            )
            for row in trials
        }

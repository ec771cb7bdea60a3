"""Reads of Optuna's tables for one study: counts by state, a status snapshot, a page of
trials, and the Optuna study handle itself.

Counts and durations are plain SQL over Optuna's ``trials`` table through our indexes
(``tables.TRIAL_INDEXES``): a status read must not grow with the study.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import optuna
import sqlalchemy as sa

from schedsearch.core.states import COUNTED, TrialState
from schedsearch.store.database import Database, aware, now
from schedsearch.store.optuna_cache import StudyCache
from schedsearch.store.studies import StudyInfo, select_study

LIVE_WITHIN = 60.0  # seconds: a worker seen since then is live
FINISHED = f"('{TrialState.COMPLETE.stored}', '{TrialState.PRUNED.stored}')"  # as SQL

_COUNTS = sa.text(  # reads only the (study_id, state) index: no join over trial values
    "SELECT "
    + ", ".join(f"sum(CASE WHEN t.state = '{s.stored}' THEN 1 ELSE 0 END)" for s in COUNTED)
    + ", (SELECT count(*) FROM schedsearch_workers w WHERE w.study_id = :id "
    "AND w.last_seen >= :since), (SELECT count(*) FROM schedsearch_workers w "
    "WHERE w.study_id = :id AND w.last_seen < :since) FROM trials t WHERE t.study_id = :s"
).bindparams(sa.bindparam("since", type_=sa.DateTime(timezone=True)))
_DURATIONS = sa.text(
    "SELECT datetime_start, datetime_complete FROM trials WHERE study_id = :s "
    f"AND state IN {FINISHED} AND datetime_start IS NOT NULL "
    "AND datetime_complete IS NOT NULL ORDER BY trial_id DESC LIMIT 50"
).columns(datetime_start=sa.DateTime, datetime_complete=sa.DateTime)


@dataclass(frozen=True)
class Snapshot:
    """A study and its live figures, read together."""

    study: StudyInfo
    counts: dict[str, int]
    durations: list[float]  # seconds, latest finished trials first
    live_workers: int
    lost_workers: int = 0  # stopped beating while on this study (kept WORKER_RETENTION)


def _tally(connection: sa.Connection, study: StudyInfo) -> tuple[dict[str, int], int, int]:
    """Counts by state plus ``finished`` (COMPLETE + PRUNED), and the live and lost workers,
    in one query."""
    since = now() - timedelta(seconds=LIVE_WITHIN)
    row = connection.execute(
        _COUNTS, {"s": study.optuna_study_id, "id": study.id, "since": since}
    ).one()
    counts = {state.count_key: int(n or 0) for state, n in zip(COUNTED, row, strict=False)}
    counts["finished"] = counts["complete"] + counts["pruned"]
    return counts, int(row[len(COUNTED)] or 0), int(row[len(COUNTED) + 1] or 0)


class Trials:
    def __init__(self, db: Database, storage: optuna.storages.RDBStorage) -> None:
        self.db = db
        self.storage = storage

    def counts(self, study: StudyInfo) -> dict[str, int]:
        """Trials by state, and ``finished`` (COMPLETE + PRUNED), in one query."""
        with self.db.reads.connect() as connection:
            return _tally(connection, study)[0]

    def all_done(self, study: StudyInfo) -> bool:
        """Whether the study's trials are over: ``n_trials`` are COMPLETE or PRUNED, or (with a
        compute budget) no trial can be claimed and none is running or queued."""
        with self.db.reads.connect() as connection:
            counts = _tally(connection, study)[0]
            if counts["finished"] >= study.n_trials:
                return True
            if study.budget is None or counts["running"] or counts["waiting"]:
                return False
            return select_study(connection, study.id).exhausted  # spent, read fresh

    def snapshot(self, key: int | str) -> Snapshot:
        """Everything a status page shows: one connection, three round trips at most."""
        with self.db.reads.connect() as connection:
            study = select_study(connection, key)
            counts, live, lost = _tally(connection, study)
            durations: Sequence[Any] = []
            if study.status.active:  # only an unfinished study needs an ETA
                durations = connection.execute(_DURATIONS, {"s": study.optuna_study_id}).all()
        seconds = [(aware(end) - aware(start)).total_seconds() for start, end in durations]
        return Snapshot(study, counts, seconds, live, lost)

    def page(
        self, study: StudyInfo, limit: int, offset: int
    ) -> tuple[list[optuna.trial.FrozenTrial], int]:
        """One page of the study's trials, by number, and how many there are."""
        with self.db.reads.connect() as connection:
            total = connection.execute(
                sa.text("SELECT count(*) FROM trials WHERE study_id = :s"),
                {"s": study.optuna_study_id},
            ).scalar()
            ids = (
                connection.execute(
                    sa.text(
                        "SELECT trial_id FROM trials WHERE study_id = :s ORDER BY number "
                        "LIMIT :n OFFSET :o"
                    ),
                    {"s": study.optuna_study_id, "n": limit, "o": offset},
                )
                .scalars()
                .all()
            )
        return [self.storage.get_trial(i) for i in ids], int(total or 0)

    def running(self, study: StudyInfo) -> list[tuple[int, Any]]:
        """The study's RUNNING trials: (trial id, start as Optuna stamps it: naive local)."""
        with self.db.reads.connect() as connection:
            rows = connection.execute(
                sa.text(
                    "SELECT trial_id, datetime_start FROM trials WHERE study_id = :s "
                    f"AND state = '{TrialState.RUNNING.stored}'"
                ).columns(trial_id=sa.Integer, datetime_start=sa.DateTime),
                {"s": study.optuna_study_id},
            ).all()
        return [(int(r.trial_id), r.datetime_start) for r in rows]

    def get(self, study: StudyInfo, number: int) -> optuna.trial.FrozenTrial:
        """One trial by its number in the study."""
        trial_id = self.storage.get_trial_id_from_study_id_trial_number(
            study.optuna_study_id, number
        )
        return self.storage.get_trial(trial_id)

    def optuna_study(
        self,
        study: StudyInfo,
        sampler: optuna.samplers.BaseSampler | None = None,
        pruner: optuna.pruners.BasePruner | None = None,
    ) -> optuna.Study:
        """The study as Optuna sees it, with this process's sampler and pruner."""
        return optuna.load_study(
            study_name=study.name, storage=StudyCache(self.storage), sampler=sampler, pruner=pruner
        )

    def all(self, study: StudyInfo) -> list[optuna.trial.FrozenTrial]:
        """Every trial of the study (plots, re-run summaries)."""
        return self.optuna_study(study).get_trials(deepcopy=False)

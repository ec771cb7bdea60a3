"""Trial slots: what keeps a study at exactly ``n_trials``, however many workers race.

A worker claims a slot with one conditional UPDATE before it asks Optuna for a trial, and gives
it back only when its trial fails (a stale heartbeat, a crash, a clean shutdown), so the slot
is run again. Optuna's ``MaxTrialsCallback`` was measured running 27 trials for a target of 20
with 8 workers; a conditional UPDATE cannot overshoot.
"""

from __future__ import annotations

import sqlalchemy as sa

from schedsearch.core.states import ACTIVE, StudyStatus
from schedsearch.store.database import Database, now
from schedsearch.store.studies import TABLE, StudyInfo


class Slots:
    def __init__(self, db: Database) -> None:
        self.db = db

    def claim(self, study_id: int) -> StudyInfo | None:
        """Take one trial slot, atomically: never more than ``n_trials`` slots are out.
        Returns the study as the claim left it (running), or None when no slot was free."""
        with self.db.engine.begin() as connection:
            row = connection.execute(
                sa.update(TABLE)
                .where(
                    TABLE.c.id == study_id,
                    TABLE.c.status.in_([s.value for s in ACTIVE]),
                    TABLE.c.claimed < TABLE.c.n_trials,
                )
                .values(claimed=TABLE.c.claimed + 1, status=StudyStatus.RUNNING, updated_at=now())
                .returning(*TABLE.c)
            ).first()
        return None if row is None else StudyInfo.of(row)

    def release(self, study_id: int) -> None:
        """Give a slot back: its trial failed and will not count."""
        with self.db.engine.begin() as connection:
            connection.execute(
                sa.update(TABLE)
                .where(TABLE.c.id == study_id, TABLE.c.claimed > 0)
                .values(claimed=TABLE.c.claimed - 1, updated_at=now())
            )

    def record_value(self, study_id: int, value: float) -> None:
        """Keep the study's best COMPLETE value (studies maximise), atomically."""
        best = TABLE.c.best_value
        with self.db.engine.begin() as connection:
            connection.execute(
                sa.update(TABLE)
                .where(TABLE.c.id == study_id)
                .values(
                    best_value=sa.case((sa.or_(best.is_(None), best < value), value), else_=best)
                )
            )

    def record_failure(self, study_id: int) -> int:
        """Count a trial that raised; returns the study's failures so far."""
        with self.db.engine.begin() as connection:
            return int(
                connection.execute(
                    sa.update(TABLE)
                    .where(TABLE.c.id == study_id)
                    .values(failures=TABLE.c.failures + 1, updated_at=now())
                    .returning(TABLE.c.failures)
                ).scalar_one()
            )

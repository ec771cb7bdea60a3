"""Fleet-wide figures over every study (what ``/metrics`` exports)."""

from __future__ import annotations

import sqlalchemy as sa

from schedsearch.core.states import COUNTED, StudyStatus
from schedsearch.store.database import Database
from schedsearch.store.tables import StudyRow
from schedsearch.store.trials import FINISHED


class Figures:
    def __init__(self, db: Database) -> None:
        self.db = db

    def studies_by_status(self) -> dict[str, int]:
        with self.db.reads.connect() as connection:
            rows = connection.execute(
                sa.select(StudyRow.status, sa.func.count()).group_by(StudyRow.status)
            ).all()
        return {status.value: 0 for status in StudyStatus} | {s: int(n) for s, n in rows}

    def trials_by_state(self) -> dict[str, int]:
        """Trials of our studies by Optuna state (``COMPLETE``, ...), over every study."""
        with self.db.reads.connect() as connection:
            rows = connection.execute(
                sa.text(
                    "SELECT t.state, count(*) FROM trials t JOIN schedsearch_studies s "
                    "ON s.optuna_study_id = t.study_id GROUP BY t.state"
                )
            ).all()
        found = {str(state).rsplit(".", 1)[-1].upper(): n for state, n in rows}
        return {state.stored: found.get(state.stored, 0) for state in COUNTED}

    def duration_histogram(self, bounds: tuple[float, ...]) -> tuple[list[int], float, int]:
        """Finished trials' durations: cumulative counts at each bound, their sum and count."""
        if self.db.dialect == "sqlite":
            seconds = "(julianday(t.datetime_complete) - julianday(t.datetime_start)) * 86400.0"
        else:
            seconds = "EXTRACT(EPOCH FROM (t.datetime_complete - t.datetime_start))"
        buckets = ", ".join(
            f"sum(CASE WHEN {seconds} <= {float(b)!r} THEN 1 ELSE 0 END)" for b in bounds
        )
        query = sa.text(
            f"SELECT {buckets}, sum({seconds}), count(*) FROM trials t "
            "JOIN schedsearch_studies s ON s.optuna_study_id = t.study_id "
            f"WHERE t.state IN {FINISHED} AND t.datetime_start IS NOT NULL "
            "AND t.datetime_complete IS NOT NULL"
        )
        with self.db.reads.connect() as connection:
            row = connection.execute(query).one()
        return [int(n or 0) for n in row[: len(bounds)]], float(row[-2] or 0.0), int(row[-1])

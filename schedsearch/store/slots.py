"""Trial slots: what keeps a study at exactly ``n_trials``, however many workers race.

A worker claims a slot with one conditional UPDATE before it asks Optuna for a trial, and gives
it back only when its trial fails (a stale heartbeat, a crash, a clean shutdown), so the slot
is run again. Optuna's ``MaxTrialsCallback`` was measured running 27 trials for a target of 20
with 8 workers; a conditional UPDATE cannot overshoot.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from schedsearch.core.errors import StudyNotFound
from schedsearch.core.states import ACTIVE, StudyStatus
from schedsearch.store.database import Database, now
from schedsearch.store.studies import SLACK, TABLE, StudyInfo, select_study


def claim_statement(study_id: int, cost: float) -> sa.Update:
    """Take one trial slot, atomically: never more than ``n_trials`` slots are out, and never
    more epochs reserved than the study's budget (``cost``: the trial's full length). Returns
    the study row as the claim left it (running), or no row when no slot was free."""
    spent = TABLE.c.spent
    return (
        sa.update(TABLE)
        .where(
            TABLE.c.id == study_id,
            TABLE.c.status.in_([s.value for s in ACTIVE]),
            TABLE.c.claimed < TABLE.c.n_trials,
            sa.or_(TABLE.c.budget.is_(None), spent + cost <= TABLE.c.budget + SLACK),
        )
        .values(
            claimed=TABLE.c.claimed + 1,
            spent=spent + cost,
            status=StudyStatus.RUNNING,
            updated_at=now(),
        )
        .returning(*TABLE.c)
    )


class Slots:
    def __init__(self, db: Database) -> None:
        self.db = db

    def claim(self, study_id: int, cost: float = 0.0) -> StudyInfo | None:
        """Take one trial slot without a lease (tests and benchmarks of the counter itself;
        workers and agents claim through ``Leases.claim``)."""
        with self.db.engine.begin() as connection:
            row = connection.execute(claim_statement(study_id, cost)).first()
        return None if row is None else StudyInfo.of(row)

    def spend(self, study_id: int, epochs: float) -> None:
        """Count compute outside trials (the range test); a negative amount refunds what a
        claim reserved and its trial did not train."""
        if epochs:
            with self.db.single.connect() as connection:
                connection.execute(
                    sa.update(TABLE)
                    .where(TABLE.c.id == study_id)
                    .values(spent=TABLE.c.spent + epochs)
                )

    def release(self, study_id: int, refund: float = 0.0) -> None:
        """Give a slot back: its trial failed and will not count. ``refund``: the epochs its
        claim reserved and it did not train (what it trained was spent all the same)."""
        with self.db.single.connect() as connection:
            connection.execute(
                sa.update(TABLE)
                .where(TABLE.c.id == study_id, TABLE.c.claimed > 0)
                .values(claimed=TABLE.c.claimed - 1, spent=TABLE.c.spent - refund, updated_at=now())
            )

    def finished(self, study_id: int, refund: float, value: float | None) -> StudyInfo:
        """One finished (COMPLETE or PRUNED) trial's figures in one statement: the epochs its
        claim reserved and it did not train come back (``refund``), its value (a COMPLETE
        one's) may become the best; the study as it is then (exhausted, for one)."""
        figures: dict[str, Any] = {"spent": TABLE.c.spent - refund} if refund else {}
        if value is not None:
            figures["best_value"] = _best(value)
        with self.db.single.connect() as connection:
            if not figures:
                return select_study(connection, study_id)
            row = connection.execute(
                sa.update(TABLE).where(TABLE.c.id == study_id).values(**figures).returning(*TABLE.c)
            ).first()
        if row is None:  # deleted meanwhile: as any read of a deleted study says
            raise StudyNotFound(f"no study {study_id!r}")
        return StudyInfo.of(row)

    def record_failure(self, study_id: int) -> int:
        """Count a trial that raised; returns the study's failures so far."""
        with self.db.single.connect() as connection:
            return int(
                connection.execute(
                    sa.update(TABLE)
                    .where(TABLE.c.id == study_id)
                    .values(failures=TABLE.c.failures + 1, updated_at=now())
                    .returning(TABLE.c.failures)
                ).scalar_one()
            )


def _best(value: float) -> sa.ColumnElement[Any]:
    """The study's best value once ``value`` is in, in the study's direction. The direction is
    read from the row's own stored spec in the same UPDATE, so no caller can pass a wrong one;
    a spec stored before ``direction`` existed maximises."""
    best = TABLE.c.best_value
    minimize = TABLE.c.spec["direction"].as_string() == "minimize"  # NULL: maximize
    better = sa.case((minimize, best > value), else_=best < value)
    return sa.case((sa.or_(best.is_(None), better), value), else_=best)

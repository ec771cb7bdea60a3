"""A study's LR range test, run once: the row is the claim, so one worker runs it and the
others use its result. A claim whose worker has stopped beating is taken over, so a worker
killed mid-test does not leave the study waiting for ever."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from schedsearch.core.range_test import RangeTest
from schedsearch.store.database import Database, aware, now
from schedsearch.store.slots import Slots
from schedsearch.store.tables import RangeTestRow, WorkerRow
from schedsearch.store.trials import LIVE_WITHIN


@dataclass(frozen=True)
class RangeTestClaim:
    worker: str
    started_at: datetime
    result: dict[str, Any] | None


class RangeTests:
    def __init__(self, db: Database, slots: Slots) -> None:
        self.db = db
        self.slots = slots

    def get(self, study_id: int) -> RangeTestClaim | None:
        with self.db.reads.connect() as connection:
            row = connection.execute(
                sa.select(RangeTestRow).where(RangeTestRow.study_id == study_id)
            ).first()
        if row is None:
            return None
        return RangeTestClaim(row.worker, aware(row.started_at), row.result)

    def result(self, study_id: int) -> RangeTest | None:
        """The study's finished range test, or None (none claimed, or still running)."""
        claim = self.get(study_id)
        if claim is None or claim.result is None:
            return None
        return RangeTest.model_validate(claim.result)

    def claim(self, study_id: int, worker: str) -> bool:
        """Whether this worker runs the study's range test: the first to ask, the heir of one
        that stopped beating before it finished, or the claimant again after an outage."""
        try:
            with self.db.engine.begin() as connection:
                connection.execute(
                    sa.insert(RangeTestRow).values(
                        study_id=study_id, worker=worker, started_at=now(), result=sa.null()
                    )
                )
            return True
        except sa.exc.IntegrityError:
            pass
        since = now() - timedelta(seconds=LIVE_WITHIN)
        alive = sa.select(WorkerRow.id).where(WorkerRow.last_seen >= since)
        with self.db.engine.begin() as connection:
            taken = connection.execute(
                sa.update(RangeTestRow)
                .where(
                    RangeTestRow.study_id == study_id,
                    RangeTestRow.result.is_(None),
                    sa.or_(
                        RangeTestRow.worker == worker,  # its own, cut short (an outage)
                        sa.and_(RangeTestRow.started_at < since, RangeTestRow.worker.not_in(alive)),
                    ),
                )
                .values(worker=worker, started_at=now())
            ).rowcount
        return bool(taken)

    def finish(self, study_id: int, worker: str, result: dict[str, Any], epochs: float) -> None:
        """Store the result and count its compute in the study's spend."""
        with self.db.engine.begin() as connection:
            done = connection.execute(
                sa.update(RangeTestRow)
                .where(RangeTestRow.study_id == study_id, RangeTestRow.worker == worker)
                .values(result=result)
            ).rowcount
        if done:  # an heir took over while we ran: its result, and its cost, count instead
            self.slots.spend(study_id, epochs)

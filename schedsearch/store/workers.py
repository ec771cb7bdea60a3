"""The worker registry: who is alive, where, and on which trial (what status pages count)."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from schedsearch.settings import Settings
from schedsearch.store.database import Database, now
from schedsearch.store.tables import WorkerRow
from schedsearch.store.trials import LIVE_WITHIN


class Workers:
    def __init__(self, db: Database, retention: float | None = None) -> None:
        self.db = db
        # Lost workers' rows are deleted after this long; each worker that starts does it.
        self.retention = Settings().worker_retention if retention is None else retention

    def seen(
        self,
        worker_id: str,
        host: str,
        pid: int,
        device: str,
        study_id: int | None = None,
        trial_number: int | None = None,
    ) -> None:
        """Record that the worker is alive (and what it runs), inserting it the first time."""
        moment = now()
        running = {"study_id": study_id, "trial_number": trial_number, "last_seen": moment}
        with self.db.engine.begin() as connection:  # one UPDATE on every beat but the first
            updated = connection.execute(
                sa.update(WorkerRow).where(WorkerRow.id == worker_id).values(**running)
            ).rowcount
            if not updated:  # a worker starts: first, forget those lost long ago
                expired = now() - timedelta(seconds=self.retention)
                connection.execute(sa.delete(WorkerRow).where(WorkerRow.last_seen < expired))
                connection.execute(
                    sa.insert(WorkerRow).values(
                        id=worker_id,
                        host=host,
                        pid=pid,
                        device=device,
                        started_at=moment,
                        **running,
                    )
                )

    def gone(self, worker_id: str) -> None:
        with self.db.session() as session:
            session.execute(sa.delete(WorkerRow).where(WorkerRow.id == worker_id))

    def live(self, study_id: int | None = None) -> list[WorkerRow]:
        """Workers seen in the last ``LIVE_WITHIN`` seconds (on one study, if given)."""
        since = now() - timedelta(seconds=LIVE_WITHIN)
        with self.db.session() as session:
            query = sa.select(WorkerRow).where(WorkerRow.last_seen >= since)
            if study_id is not None:
                query = query.where(WorkerRow.study_id == study_id)
            return list(session.scalars(query))

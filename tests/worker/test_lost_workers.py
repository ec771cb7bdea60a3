"""Lost workers (hardening item 5): a worker that stopped beating is shown as lost in its
study's status, and its row is deleted once older than ``SCHEDSEARCH_WORKER_RETENTION``, by the
next worker that starts."""

from __future__ import annotations

import os
import subprocess
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa

from schedsearch.core.spec import StudySpec
from schedsearch.reports.results import study_status
from schedsearch.store import Store
from schedsearch.store.database import now
from schedsearch.store.tables import WorkerRow
from tests.processes import EXE


def _last_seen(store: Store, worker: str, ago: timedelta) -> None:
    with store.db.engine.begin() as connection:
        connection.execute(
            sa.update(WorkerRow).where(WorkerRow.id == worker).values(last_seen=now() - ago)
        )


def test_lost_workers_are_shown_then_forgotten(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'studies.db'}"
    store = Store(url)
    study = store.studies.create(StudySpec(name="s", n_trials=1))
    for name in ("lost-long-ago", "lost-lately", "alive"):
        store.workers.seen(name, "host", 1, "cpu", study.id, 0)
    _last_seen(store, "lost-long-ago", timedelta(hours=2))
    _last_seen(store, "lost-lately", timedelta(minutes=5))
    status = study_status(store, study.id)
    assert (status["live_workers"], status["lost_workers"]) == (1, 2)
    done = subprocess.run(  # a worker starts (and finds no work): it forgets the old row
        [EXE, "worker", "--database-url", url, "--study", "s", "--max-trials", "1"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "SCHEDSEARCH_WORKER_RETENTION": "3600"},
    )
    assert done.returncode == 0, done.stderr
    with store.db.engine.connect() as connection:
        names = set(connection.scalars(sa.select(WorkerRow.id)))
    assert "lost-long-ago" not in names and {"lost-lately", "alive"} <= names
    assert study_status(store, study.id)["lost_workers"] == 1
